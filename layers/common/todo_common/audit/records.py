"""The audit trail's stored records: one per change, and the signed digest of each closed period.

Frozen dataclasses, as the entities' records (`todo_common/records.py`); apart from them because
only the functions that read the trail use them, and each class costs a cold start ~0.7 ms.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from todo_common.documents import Doc, StoredModel


@dataclass(frozen=True)
class Audit(StoredModel):
    """One record of the audit trail (written once by the consumer, never changed)."""

    id: str
    event_id: str
    actor_id: str | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    detail: str
    request_id: str | None
    created_at: datetime  # when it happened
    updated_at: datetime  # when it was recorded (older records: no recordedAt)
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class DigestEntry:
    event_id: str
    record_hash: str


@dataclass(frozen=True)
class AuditDigest(StoredModel):
    """The signed digest of one closed period of the audit trail."""

    period_start: datetime
    period_end: datetime
    count: int
    records_hash: str
    previous_digest_hash: str | None
    digest_hash: str
    signature: str
    key_id: str
    signing_algorithm: str
    records: list[DigestEntry] = dataclasses.field(default_factory=list)

    @classmethod
    def from_document(cls, doc: Doc) -> Self:
        digest = super().from_document(doc)
        entries = [DigestEntry(e["eventId"], e["recordHash"]) for e in doc.get("records") or []]
        return dataclasses.replace(digest, records=entries)
