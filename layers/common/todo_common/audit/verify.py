"""The audit trail's verifier: recompute every hash, link and signature, and name what changed.

It trusts the write-once store (audit/store.py) alone, never the database's copies. For each
period's digest in the store, oldest first: its own fields against its `digestHash` and
`recordsHash`, its signature, its link to the digest before it, that no period is missing between
them, and that it was stored in time (its period's end plus the margin plus `late_tolerance`: a
period closed late left its records open to a database writer for longer). Then, for each digest
that passed, the records stored in its period against the digest's list of `{eventId,
recordHash}`: a record whose hash differs was modified, one that is missing was deleted, one that
is not listed was inserted. A digest that failed vouches for nothing, so its period's records are
not compared with it (the finding says so). The database's copies are compared with the store:
one that differs, one the store does not hold, and a store digest with no copy are findings.

Records outside every digest are findings too: before the first period (inserted), in a gap
between digests (the missing digest's period), with no storage time at all (inserted), with a
storage time in the future (inserted), or in periods long closed that have no digest (missing
digests at the end of the chain). Records of periods not yet closed are only counted as pending.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from todo_common.audit.canonical import digest_hash, record_hash, records_hash
from todo_common.audit.copies import check_copies, check_uncopied
from todo_common.audit.digests import EPOCH, DigestSchedule, by_period
from todo_common.audit.findings import Finding, FindingKind, Verification, has_period, period_text
from todo_common.audit.signing import DigestSigner, KeyUnavailable
from todo_common.audit.store import S3DigestStore, StoredDigest
from todo_common.documents import Doc
from todo_common.instants import instant_text
from todo_common.repositories.audit_digests import AuditDigestRepository
from todo_common.repositories.audits import AuditRepository

BATCH = 168  # digests per records query: a week of hourly periods
MAX_NAMED = 100  # eventIds named in one finding
CLOCK_SKEW = timedelta(minutes=1)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g} min"


@dataclass(eq=False)
class AuditVerifier:
    _audits: AuditRepository
    _digests: AuditDigestRepository
    _store: S3DigestStore
    _signer: DigestSigner
    _schedule: DigestSchedule
    late_tolerance: timedelta = timedelta(minutes=15)

    def verify(self, now: datetime, from_: datetime | None, to: datetime | None) -> Verification:
        """Check the store's digests whose period starts in [from_, to) (default: all, up to
        now), the records those periods hold, and the database's copies of them."""
        end = min(to, now) if to is not None else now
        result = Verification(from_, end)
        previous: Doc | None = None
        first: Doc | None = None
        in_store: set[datetime] = set()
        for batch in self._batches(result, from_, end):
            if first is None:
                first = batch[0][1]
                if from_ is not None:
                    previous = self._stored_before(first)
                self._check_start(result, first, previous)
            trusted = []
            for stored, digest in batch:
                if self._check_digest(result, digest, previous):
                    trusted.append(digest)
                self._check_time(result, stored, digest)
                previous = digest
                in_store.add(digest["periodStart"])
            self._check_records(result, trusted)
            check_copies(result, self._digests, [digest for _, digest in batch])
            result.digests += len(batch)
        check_uncopied(result, self._digests, from_, end, in_store)
        self._check_outside(result, now, from_, end, first, previous)
        return result

    def _stored_before(self, first: Doc) -> Doc | None:
        """The store's digest of the period before `first` (periods are of one length)."""
        before = self._store.get(first["periodStart"] - self._schedule.period)
        return before.body if before is not None and before.body is not None else None

    def _batches(
        self, result: Verification, from_: datetime | None, end: datetime
    ) -> Iterator[list[tuple[StoredDigest, Doc]]]:
        """The store's digests in order, a batch at a time; an object that is no digest, or
        one written over, is a finding."""
        for batch in self._store.between(from_, end, BATCH):
            whole = []
            for stored in batch:
                if stored.overwritten:
                    result.add(
                        Finding(
                            FindingKind.STORE_OBJECT_REPLACED,
                            f"Someone put a version or a delete marker over {stored.key}: "
                            f"the first version ({stored.version_id}) is the one checked",
                        )
                    )
                if stored.body is not None and has_period(stored.body):
                    whole.append((stored, stored.body))
                else:
                    result.add(
                        Finding(
                            FindingKind.DIGEST_ALTERED,
                            f"The store's object {stored.key} is not a digest: it was altered",
                        )
                    )
            if whole:
                yield whole

    def _check_start(self, result: Verification, first: Doc, before: Doc | None) -> None:
        if before is None and first.get("previousDigestHash") is not None:
            result.add(
                Finding(
                    FindingKind.DIGEST_MISSING,
                    "The first digest links to an earlier one that is gone: "
                    f"digests before {instant_text(first['periodStart'])} were deleted",
                    period_end=first["periodStart"],
                )
            )

    def _check_digest(self, result: Verification, digest: Doc, previous: Doc | None) -> bool:
        """The digest's own hashes, its signature and its link; True when it can be trusted."""
        start, end = digest["periodStart"], digest["periodEnd"]
        period = period_text(digest)
        entries = digest.get("records") or []
        trusted = True
        gap = previous is not None and previous["periodEnd"] < start
        if gap and previous is not None:
            missing_start: datetime = previous["periodEnd"]
            stray = self._audits.count_stored_between(missing_start, start)
            result.add(
                Finding(
                    FindingKind.DIGEST_MISSING,
                    f"No digest for {instant_text(missing_start)}..{instant_text(start)}: deleted"
                    f" ({stray} record(s) stored then are vouched for by nothing)",
                    period_start=missing_start,
                    period_end=start,
                    count=stray,
                )
            )
        expected_previous = previous.get("digestHash") if previous is not None else None
        if (
            previous is not None
            and not gap
            and digest.get("previousDigestHash") != expected_previous
        ):
            result.add(
                Finding(
                    FindingKind.CHAIN_BROKEN,
                    f"The digest of {period} does not link to the digest before it",
                    start,
                    end,
                )
            )
        if (
            digest.get("count") != len(entries)
            or digest.get("recordsHash") != records_hash(entries)
            or digest.get("digestHash")
            != digest_hash(
                period_start=start,
                period_end=end,
                count=int(digest.get("count") or 0),
                records_hash_=str(digest.get("recordsHash")),
                previous_digest_hash=digest.get("previousDigestHash"),
            )
        ):
            trusted = False
            result.add(
                Finding(
                    FindingKind.DIGEST_ALTERED,
                    f"The digest of {period} does not match its own hashes: it was altered "
                    "(its records cannot be checked against it)",
                    start,
                    end,
                )
            )
        if not self._signature_holds(result, digest, period):
            trusted = False
        return trusted

    def _signature_holds(self, result: Verification, digest: Doc, period: str) -> bool:
        why = None
        try:
            hash_bytes = bytes.fromhex(str(digest.get("digestHash")))
            signature = base64.b64decode(str(digest.get("signature")), validate=True)
            if not self._signer.verify(str(digest.get("keyId")), hash_bytes, signature):
                why = "does not verify with its key"
        except (ValueError, binascii.Error):
            why = "is malformed"
        except KeyUnavailable as exc:
            why = f"cannot be checked ({exc})"
        if why is None:
            return True
        result.add(
            Finding(
                FindingKind.SIGNATURE_INVALID,
                f"The signature of the digest of {period} {why}",
                digest.get("periodStart"),
                digest.get("periodEnd"),
            )
        )
        return False

    def _check_records(self, result: Verification, trusted: list[Doc]) -> None:
        if not trusted:
            return
        periods = [(d["periodStart"], d["periodEnd"]) for d in trusted]
        stored = by_period(self._audits.stored_between(periods[0][0], periods[-1][1]), periods)
        for digest, records in zip(trusted, stored, strict=True):
            self._compare(result, digest, records)

    def _compare(self, result: Verification, digest: Doc, records: list[Doc]) -> None:
        start, end = digest["periodStart"], digest["periodEnd"]
        listed = {e["eventId"]: e["recordHash"] for e in digest.get("records") or []}
        seen: set[str] = set()
        result.records += len(records)
        for record in records:
            event_id = str(record.get("eventId"))
            expected = listed.get(event_id)
            if expected is None or event_id in seen:
                result.add(
                    Finding(
                        FindingKind.RECORD_INSERTED,
                        f"Record {event_id} is not in the digest of {period_text(digest)}: "
                        "inserted",
                        start,
                        end,
                        event_id=event_id,
                    )
                )
            elif record_hash(record) != expected:
                result.add(
                    Finding(
                        FindingKind.RECORD_MODIFIED,
                        f"Record {event_id} of {period_text(digest)} was modified",
                        start,
                        end,
                        event_id=event_id,
                    )
                )
            seen.add(event_id)
        missing = sorted(set(listed) - seen)
        if missing:
            result.add(
                Finding(
                    FindingKind.RECORD_DELETED,
                    f"{len(missing)} record(s) of {period_text(digest)} were deleted",
                    start,
                    end,
                    count=len(missing),
                    event_ids=tuple(missing[:MAX_NAMED]),
                )
            )

    def _check_time(self, result: Verification, stored: StoredDigest, digest: Doc) -> None:
        due = digest["periodEnd"] + self._schedule.margin
        if stored.stored_at <= due + self.late_tolerance:
            return
        result.add(
            Finding(
                FindingKind.DIGEST_LATE,
                f"The digest of {period_text(digest)} was stored at "
                f"{instant_text(stored.stored_at)}, "
                f"later than {instant_text(due + self.late_tolerance)} (its period's end, the "
                f"{_minutes(self._schedule.margin)} margin and the {_minutes(self.late_tolerance)}"
                " tolerance): its records could be changed before they were sealed",
                digest["periodStart"],
                digest["periodEnd"],
            )
        )

    def _check_outside(
        self,
        result: Verification,
        now: datetime,
        from_: datetime | None,
        end: datetime,
        first: Doc | None,
        last: Doc | None,
    ) -> None:
        """Records no digest covers: before the first period, after the last, or untimed."""
        if from_ is None:
            for record in self._audits.without_trail_time(MAX_NAMED):
                self._inserted(result, record, "has no recordedAt")
            for record in self._audits.stored_between(now + CLOCK_SKEW, FAR_FUTURE)[:MAX_NAMED]:
                self._inserted(result, record, "claims to be stored in the future")
        if first is not None and (from_ is None or from_ < first["periodStart"]):
            lower = from_ if from_ is not None else EPOCH
            if first.get("previousDigestHash") is None:
                for record in self._audits.stored_between(lower, first["periodStart"])[:MAX_NAMED]:
                    self._inserted(result, record, "is older than the trail's first period")
        tail = last["periodEnd"] if last is not None else None
        if tail is None:
            known = self._audits.first_trail_time()
            if known is None:
                return
            tail = self._schedule.floor(known)
        if from_ is not None:
            tail = max(tail, from_)
        if tail >= end:
            return
        # Periods the digest function should have closed by now (one period of slack for its
        # schedule) but that have no digest.
        overdue_until = min(
            self._schedule.floor(now - self._schedule.margin - self._schedule.period), end
        )
        if overdue_until > tail:
            stray = self._audits.count_stored_between(tail, overdue_until)
            result.add(
                Finding(
                    FindingKind.DIGEST_MISSING,
                    f"No digest for {instant_text(tail)}..{instant_text(overdue_until)}, closed "
                    f"long ago: deleted, or the digest function is not running ({stray} record(s))",
                    period_start=tail,
                    period_end=overdue_until,
                    count=stray,
                )
            )
            tail = overdue_until
        result.pending_records = self._audits.count_stored_between(tail, min(end, now + CLOCK_SKEW))

    def _inserted(self, result: Verification, record: Doc, why: str) -> None:
        event_id = str(record.get("eventId"))
        result.add(
            Finding(
                FindingKind.RECORD_INSERTED,
                f"Record {event_id} {why}: it was not stored by the consumer",
                event_id=event_id,
            )
        )
