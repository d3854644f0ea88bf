"""The canonical form of audit records and digests, and the hashes computed over it.

Defined once, here, and used by the digest function and the verifier alike (docs/decisions.md):

- canonical JSON: keys sorted, no insignificant whitespace (`,` and `:` separators), UTF-8
  (non-ASCII characters as themselves), no NaN or Infinity;
- timestamps: UTC, ISO 8601 at millisecond precision with `Z` (`2026-12-01T10:00:00.123Z`).
  MongoDB stores milliseconds, so a hash computed before a round trip equals the one after;
- ObjectIds as their 24-character hex string, bytes as lower-case hex;
- a record's hash: SHA-256 (hex) of the canonical JSON of ALL its stored fields, `_id` included;
- a period's `recordsHash`: SHA-256 of the canonical JSON of its `[{eventId, recordHash}, ...]`
  list in (`recordedAt`, `eventId`) order;
- a digest's `digestHash`: SHA-256 of the canonical JSON of `{periodStart, periodEnd, count,
  recordsHash, previousDigestHash}`; the signature is over these 32 bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from todo_common.instants import instant_text


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """The one byte string `value` hashes as."""
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 over every stored field of an audit record."""
    return sha256_hex(canonical_json(record))


def records_hash(entries: Sequence[Mapping[str, str]]) -> str:
    """SHA-256 over a period's `{eventId, recordHash}` entries, in trail order."""
    return sha256_hex(canonical_json(list(entries)))


def digest_hash(
    *,
    period_start: datetime,
    period_end: datetime,
    count: int,
    records_hash_: str,
    previous_digest_hash: str | None,
) -> str:
    """SHA-256 over the fields a digest's signature vouches for."""
    return sha256_hex(
        canonical_json(
            {
                "periodStart": period_start,
                "periodEnd": period_end,
                "count": count,
                "recordsHash": records_hash_,
                "previousDigestHash": previous_digest_hash,
            }
        )
    )
