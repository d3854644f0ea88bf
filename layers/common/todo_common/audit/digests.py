"""Closing the audit trail's periods: one signed digest per period, chained to the previous one.

Run on a schedule (template.yaml's AuditDigestFunction; the local worker of `make dev`). A period
[start, start + period) is closed only once `now >= end + margin`. Every record carries the time
the consumer stored it (`recordedAt`, taken just before the insert), and the margin outlasts the
consumer's longest batch, so no record can still arrive in a period that has its digest.

Every period gets a digest, empty ones too, so a deleted period shows as a gap in the chain. The
digests live in the write-once store (audit/store.py), which is the chain's truth: the next period
starts where the store's newest digest ended, never where the database says, so deleting digests
from the database cannot make this function sign a period again. The database keeps a copy of each
(a cache that `GET /audits/digests` lists). The first period is the one holding the trail's
earliest record. Two runs at once are harmless: a period's object is written once (a conditional
put), and the run whose put lost stops, leaving the rest to the winner.
"""

from __future__ import annotations

import base64
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from todo_common.audit.canonical import digest_hash, record_hash, records_hash
from todo_common.audit.signing import ALGORITHM, DigestSigner
from todo_common.audit.store import S3DigestStore
from todo_common.documents import Doc
from todo_common.instants import instant_text
from todo_common.repositories.audit_digests import AuditDigestRepository
from todo_common.repositories.audits import AuditRepository, trail_time

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DigestSchedule:
    period: timedelta
    margin: timedelta

    def floor(self, when: datetime) -> datetime:
        """The start of the period (aligned on the epoch) that holds `when`."""
        seconds = self.period.total_seconds()
        return EPOCH + timedelta(seconds=(when - EPOCH).total_seconds() // seconds * seconds)

    def closable(self, end: datetime, now: datetime) -> bool:
        return now >= end + self.margin


@dataclass
class DigestRun:
    digests: int = 0
    records: int = 0
    lost_race: bool = False
    last_digest_hash: str | None = None


def by_period(records: list[Doc], periods: list[tuple[datetime, datetime]]) -> list[list[Doc]]:
    """`records` sorted into the sorted, non-overlapping `periods` [start, end) that hold them;
    records in none of them are left out."""
    starts = [start for start, _ in periods]
    buckets: list[list[Doc]] = [[] for _ in periods]
    for record in records:
        when = trail_time(record)
        if when is None:
            continue
        i = bisect_right(starts, when) - 1
        if i >= 0 and when < periods[i][1]:
            buckets[i].append(record)
    return buckets


def record_entries(records: list[Doc]) -> list[dict[str, str]]:
    """A period's `{eventId, recordHash}` entries in trail order: (`recordedAt`, `eventId`)."""
    ordered = sorted(
        records, key=lambda r: (instant_text(trail_time(r) or EPOCH), str(r.get("eventId")))
    )
    return [{"eventId": str(r.get("eventId")), "recordHash": record_hash(r)} for r in ordered]


class DigestService:
    def __init__(
        self,
        audits: AuditRepository,
        digests: AuditDigestRepository,
        store: S3DigestStore,
        signer: DigestSigner,
        schedule: DigestSchedule,
        max_periods: int = 200,
    ) -> None:
        self._audits = audits
        self._digests = digests
        self._store = store
        self._signer = signer
        self._schedule = schedule
        self._max_periods = max_periods

    def close_periods(self, now: datetime) -> DigestRun:
        """Digest every period that is over (plus the margin) and has no digest yet, in order."""
        run = DigestRun()
        cached = self._digests.latest()
        head = self._store.head(cached["periodStart"] if cached is not None else None)
        if head is not None and head.body is not None:
            start, previous = head.body["periodEnd"], head.body["digestHash"]
            # A run that stopped between its put and the database copy leaves the newest
            # digest uncached: copy it now (older gaps in the cache stay, for the verifier).
            if cached is None or cached["periodStart"] < head.body["periodStart"]:
                self._digests.add(head.body)
        elif head is not None:
            raise ValueError(f"the store's newest object {head.key} is not a digest")
        else:
            first = self._audits.first_trail_time()
            if first is None:
                return run  # the trail begins with its first record
            start, previous = self._schedule.floor(first), None
        periods: list[tuple[datetime, datetime]] = []
        while len(periods) < self._max_periods:
            end = start + self._schedule.period
            if not self._schedule.closable(end, now):
                break
            periods.append((start, end))
            start = end
        if not periods:
            return run
        # One read for all of them: the periods are contiguous.
        stored = self._audits.stored_between(periods[0][0], periods[-1][1])
        for (start, end), records in zip(periods, by_period(stored, periods), strict=True):
            digest = self.build(start, end, previous, records)
            if not self._store.put(digest):
                run.lost_race = True  # another run stored this period: it carries on
                break
            self._digests.add(digest)  # False: the database already held one (the verifier says)
            run.digests += 1
            run.records += digest["count"]
            run.last_digest_hash = previous = digest["digestHash"]
        return run

    def build(
        self,
        start: datetime,
        end: datetime,
        previous: str | None,
        records: list[Doc] | None = None,
    ) -> dict[str, Any]:
        """The signed digest of [start, end), chained to the digest hash `previous`, over the
        period's `records` (read here when not given)."""
        if records is None:
            records = self._audits.stored_between(start, end)
        entries = record_entries(records)
        entries_hash = records_hash(entries)
        hash_ = digest_hash(
            period_start=start,
            period_end=end,
            count=len(entries),
            records_hash_=entries_hash,
            previous_digest_hash=previous,
        )
        signature, key_id = self._signer.sign(bytes.fromhex(hash_))
        return {
            "periodStart": start,
            "periodEnd": end,
            "count": len(entries),
            "records": entries,
            "recordsHash": entries_hash,
            "previousDigestHash": previous,
            "digestHash": hash_,
            "signature": base64.b64encode(signature).decode(),
            "keyId": key_id,
            "signingAlgorithm": ALGORITHM,
        }
