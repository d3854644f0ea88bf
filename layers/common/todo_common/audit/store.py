"""The write-once home of the audit trail's digests: an S3 bucket with Object Lock.

One object per period, `digests/<period start>.json` (the canonical instant, so keys sort in time
order), holding the signed digest as JSON. The bucket (template.yaml's AuditDigestBucket) is
versioned and locked in compliance mode: no one, the account's root included, can delete or change
a version before its retention ends. S3 still lets a writer put a *new* version over a key, or a
delete marker, so the store's truth for a period is the key's first version; any later version or
marker is reported (`overwritten`). The bucket policy refuses both to everyone but the digest
function, and refuses it any put that is not conditional.

Locally the same code runs against moto's S3 (`scripts/servers.py` creates the bucket). moto
5.2.5 enforces the lock on deleting a version (`DeleteObject`, `DeleteObjects`) and `IfNoneMatch`
on `PutObject`, but lets a compliance retention be shortened (docs/decisions.md;
tests/integration/test_audit_digests.py): nothing here relies on more than the first two.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from todo_common.instants import instant_text

PREFIX = "digests/"
FETCHERS = 16  # objects read at once (one GET each)
# The S3 errors of a conditional put that found the key taken (the second at the same moment).
TAKEN = ("PreconditionFailed", "ConditionalRequestConflict")


class StoreUnavailable(RuntimeError):
    """The digest store cannot be read or written (not configured, or S3 unreachable)."""


@dataclass(frozen=True)
class StoredDigest:
    """A period's first version in the store, when S3 stored it, and whether someone tried to
    replace it (a later version or a delete marker on its key)."""

    key: str
    version_id: str
    stored_at: datetime
    body: dict[str, Any] | None  # None: not a digest (unreadable JSON)
    overwritten: bool


@lru_cache(maxsize=1)
def s3_client() -> Any:
    """boto3's S3 client, created on first use (typed Any: S3 stubs are not a dependency)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=FETCHERS,
    )
    return boto3.client("s3", config=config)


def digest_json(digest: dict[str, Any]) -> bytes:
    """A digest as the store holds it: JSON, instants in the canonical text."""
    return json.dumps(
        {k: instant_text(v) if isinstance(v, datetime) else v for k, v in digest.items()},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def _parsed(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
        for name in ("periodStart", "periodEnd"):
            body[name] = datetime.fromisoformat(body[name])
    except (ValueError, TypeError, KeyError):
        return None
    return body if isinstance(body, dict) else None


class S3DigestStore:
    def __init__(self, bucket: str | None, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def bucket(self) -> str:
        if not self._bucket:
            raise StoreUnavailable("AUDIT_DIGEST_BUCKET is not set: the digest store is unknown")
        return self._bucket

    def _s3(self) -> Any:
        return self._client if self._client is not None else s3_client()

    @staticmethod
    def key(period_start: datetime) -> str:
        return f"{PREFIX}{instant_text(period_start)}.json"

    def put(self, digest: dict[str, Any]) -> bool:
        """Store a period's digest once; False when the period already has an object.

        Two checks, because S3's conditional put only looks at a key's current version: one
        hidden behind a delete marker would let a second digest through, so any version at all
        counts as taken. The conditional put settles two runs that pass the check together.
        """
        from botocore.exceptions import ClientError

        key = self.key(digest["periodStart"])
        if next(self._versions(key, key), None) is not None:  # a version, or a marker
            return False
        try:
            self._s3().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=digest_json(digest),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in TAKEN:
                return False
            raise StoreUnavailable(f"S3 could not store {key}: {exc}") from exc
        return True

    def head(self, hint: datetime | None = None) -> StoredDigest | None:
        """The newest period's digest, or None for an empty store. `hint` (the database's newest
        digest, which a database writer controls) only saves listing the whole bucket: the
        listing starts there, and from the beginning when nothing is found after it."""
        for start in (hint, None) if hint is not None else (None,):
            last = None
            first = self.key(start) if start is not None else None
            for last in self._keys(first, None):  # noqa: B007 (the last one is wanted)
                pass
            if last is not None:
                return self._fetch(last)
        return None

    def get(self, period_start: datetime) -> StoredDigest | None:
        key = self.key(period_start)
        found = next(self._keys(key, key), None)
        return self._fetch(found) if found is not None else None

    def between(
        self, start: datetime | None, end: datetime | None, batch: int
    ) -> Iterator[list[StoredDigest]]:
        """The digests whose period starts in [start, end), oldest first, `batch` at a time."""
        keys: list[tuple[str, str, datetime, bool]] = []
        with ThreadPoolExecutor(FETCHERS) as pool:
            first = self.key(start) if start is not None else None
            for entry in self._keys(first, self.key(end) if end is not None else None):
                keys.append(entry)
                if len(keys) == batch:
                    yield list(pool.map(self._fetch, keys))
                    keys = []
            if keys:
                yield list(pool.map(self._fetch, keys))

    def _fetch(self, entry: tuple[str, str, datetime, bool]) -> StoredDigest:
        key, version, stored_at, overwritten = entry
        try:
            answer = self._s3().get_object(Bucket=self.bucket, Key=key, VersionId=version)
            raw = answer["Body"].read()
        except Exception as exc:  # botocore's errors, and a connection lost mid-body
            raise StoreUnavailable(f"S3 could not read {key} ({version}): {exc}") from exc
        return StoredDigest(key, version, stored_at, _parsed(raw), overwritten)

    def _keys(
        self, first: str | None, last: str | None
    ) -> Iterator[tuple[str, str, datetime, bool]]:
        """(key, first version, when it was stored, overwritten) per key in [first, last)
        (`last` None: to the end; `first == last`: that one key)."""
        current: tuple[str, str, datetime] | None = None
        replaced = False
        for key, version, when, is_marker in self._versions(first, last):
            if current is not None and key != current[0]:
                yield (*current, replaced)
                current, replaced = None, False
            if is_marker:
                replaced = True
            else:
                # S3 lists a key's versions newest first: the last one seen is the first stored.
                replaced = replaced or current is not None
                current = (key, version, when)
        if current is not None:
            yield (*current, replaced)

    def _versions(
        self, first: str | None, last: str | None
    ) -> Iterator[tuple[str, str, datetime, bool]]:
        """Every version and delete marker of the keys in [first, last) (`last` None: to the
        end; `first == last`: that one key), in key order, each key's newest first."""
        if first is not None and first == last:
            prefixes = [first]
        elif first is None:
            prefixes = [PREFIX]
        else:
            # One listing per day from `first`'s: a day's keys share a prefix. Not KeyMarker,
            # which moto 5.2.5 answers without the first version after it.
            day = date.fromisoformat(first[len(PREFIX) : len(PREFIX) + 10])
            until = date.fromisoformat(last[len(PREFIX) : len(PREFIX) + 10]) if last else None
            today = datetime.now(UTC).date()
            prefixes = []
            while day <= (until or today) and day <= today + timedelta(days=1):
                prefixes.append(f"{PREFIX}{day.isoformat()}T")
                day += timedelta(days=1)
        for prefix in prefixes:
            for entry in self._listed(prefix):
                key = entry[0]
                if first is not None and key < first:
                    continue
                if last is not None and key >= last and first != last:
                    return
                yield entry

    def _listed(self, prefix: str) -> Iterator[tuple[str, str, datetime, bool]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self._s3().get_paginator("list_object_versions")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                entries = [(v, False) for v in page.get("Versions", [])] + [
                    (m, True) for m in page.get("DeleteMarkers", [])
                ]
                # One page holds versions and markers apart: merge them, newest first per key.
                entries.sort(key=lambda e: (e[0]["Key"], -e[0]["LastModified"].timestamp()))
                for entry, is_marker in entries:
                    yield entry["Key"], entry["VersionId"], entry["LastModified"], is_marker
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"S3 could not list s3://{self.bucket}/{prefix}: {exc}") from exc
