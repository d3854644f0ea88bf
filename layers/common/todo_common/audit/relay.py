"""The outbox relay: sends audit events that the request path could not, then clears them.

Scheduled every minute in AWS (template.yaml) and run by the local worker of `make dev`. Each run
also reports how far behind the trail is: `OutboxBacklog` (events waiting when it began) and
`OutboxOldestAgeSeconds` (how long the oldest of them had waited).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from todo_common import metrics
from todo_common.audit.events import AuditEvent
from todo_common.audit.publisher import AuditPublisher
from todo_common.instants import utcnow
from todo_common.logs import correlated, logger
from todo_common.metrics import Metric
from todo_common.repositories.audits import AuditOutboxRepository
from todo_common.repositories.base import OUTBOX, MongoRepository

BATCH = 200


@dataclass
class RelayResult:
    sent: int = 0
    failed: int = 0
    backlog: int = 0  # at most `batch` records' events per collection are looked at
    oldest_age_seconds: float = 0.0


def _occurred(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["occurredAt"])


def _waiting(
    repositories: list[MongoRepository], outbox: AuditOutboxRepository, batch: int
) -> list[tuple[dict[str, Any], Callable[[], None]]]:
    """Every waiting event's payload, with what clears it once sent."""
    waiting: list[tuple[dict[str, Any], Callable[[], None]]] = []
    for repository in repositories:
        for doc in repository.pending_outbox(batch):
            for event_id, payload in (doc.get(OUTBOX) or {}).items():
                waiting.append(
                    (payload, partial(repository.clear_outbox, str(doc["_id"]), event_id))
                )
    for doc in outbox.pending(batch):
        waiting.append((doc["event"], partial(outbox.remove, str(doc["_id"]))))
    return waiting


def relay_pending(
    publisher: AuditPublisher,
    repositories: list[MongoRepository],
    outbox: AuditOutboxRepository,
    min_age: timedelta,
    batch: int = BATCH,
) -> RelayResult:
    """Send what waited in the records' outboxes and in `audit_outbox` for at least `min_age`
    (younger events are still with the request path's sender); stop early if SQS fails."""
    waiting = _waiting(repositories, outbox, batch)
    now = utcnow()
    ages = [(now - _occurred(payload)).total_seconds() for payload, _ in waiting]
    result = RelayResult(backlog=len(waiting), oldest_age_seconds=max(0.0, *ages) if ages else 0.0)
    metrics.observe(Metric.OUTBOX_BACKLOG, result.backlog)
    metrics.observe(Metric.OUTBOX_OLDEST_AGE_SECONDS, result.oldest_age_seconds)
    cutoff = now - min_age
    for (payload, clear), age in zip(waiting, ages, strict=True):
        if _occurred(payload) > cutoff:
            continue
        event = AuditEvent.model_validate(payload)
        with correlated(event.request_id):
            if not publisher.send(event):
                result.failed += 1
                return result
            clear()
            logger.info(
                "Audit event relayed", extra={"event_id": event.event_id, "waited_seconds": age}
            )
        result.sent += 1
    return result
