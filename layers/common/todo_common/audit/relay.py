"""The outbox relay: sends audit events that the request path could not, then clears them.

Scheduled every minute in AWS (template.yaml) and run by the local worker of `make dev`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from todo_common.audit.events import AuditEvent
from todo_common.audit.publisher import AuditPublisher
from todo_common.models import utcnow
from todo_common.repositories.audits import AuditOutboxRepository
from todo_common.repositories.base import OUTBOX, MongoRepository

BATCH = 200


@dataclass
class RelayResult:
    sent: int = 0
    failed: int = 0


def _older_than(payload: dict[str, Any], cutoff: datetime) -> bool:
    return datetime.fromisoformat(payload["occurredAt"]) <= cutoff


def relay_pending(
    publisher: AuditPublisher,
    repositories: list[MongoRepository],
    outbox: AuditOutboxRepository,
    min_age: timedelta,
    batch: int = BATCH,
) -> RelayResult:
    """Send what waited in the records' outboxes and in `audit_outbox` for at least `min_age`
    (younger events are still with the request path's sender); stop early if SQS fails."""
    result = RelayResult()
    cutoff = utcnow() - min_age
    for repository in repositories:
        for doc in repository.pending_outbox(batch):
            for event_id, payload in (doc.get(OUTBOX) or {}).items():
                if not _older_than(payload, cutoff):
                    continue
                if not publisher.send(AuditEvent.model_validate(payload)):
                    result.failed += 1
                    return result
                repository.clear_outbox(str(doc["_id"]), event_id)
                result.sent += 1
    for doc in outbox.pending(batch):
        if not _older_than(doc["event"], cutoff):
            continue
        if not publisher.send(AuditEvent.model_validate(doc["event"])):
            result.failed += 1
            return result
        outbox.remove(str(doc["_id"]))
        result.sent += 1
    return result
