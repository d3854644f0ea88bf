"""What the audit consumer does with one SQS record: validate it, store it once, and say so."""

from __future__ import annotations

import json
from collections.abc import Callable

from pymongo.errors import ConnectionFailure, ExecutionTimeout

from todo_common import metrics
from todo_common.audit.events import AuditEvent
from todo_common.instants import utcnow
from todo_common.logs import correlated, logger
from todo_common.metrics import Dependency, Metric
from todo_common.repositories.audits import AuditRepository


class PoisonMessage(ValueError):
    """A message that can never be recorded (not JSON, or not an audit event)."""


def record_message(
    body: str, audits: AuditRepository, stored: Callable[[AuditEvent], object] | None = None
) -> bool:
    """Store the event in `body`; False when its eventId was already recorded (a redelivery).

    `stored` runs once the record is in the trail (the webhook deliveries it owes), for a
    redelivery too: an earlier delivery of the message may have stored it and failed after.

    Its log lines carry the event's request id as correlation id; `AuditEventsRecorded`,
    `AuditLagSeconds` (from the event's storing with its change to its recording here) and
    `AuditDuplicatesSkipped` go with the invocation's metrics.

    Raises `PoisonMessage` for a body that is not an audit event: the batch reports it failed,
    SQS redelivers it, and after the queue's maxReceiveCount it moves to the dead-letter queue.
    """
    try:
        event = AuditEvent.model_validate(json.loads(body))
    except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError alike
        raise PoisonMessage(str(exc)[:200]) from exc
    with correlated(event.request_id):
        try:
            new = audits.record(event.wire())
        except (ConnectionFailure, ExecutionTimeout):
            metrics.dependency_unavailable(Dependency.MONGODB)
            raise
        if new:
            _recorded(event)
        else:
            metrics.count(Metric.AUDIT_DUPLICATES_SKIPPED)
            logger.info("Audit event already recorded", extra={"event_id": event.event_id})
        if stored is not None:
            stored(event)
    return new


def _recorded(event: AuditEvent) -> None:
    lag = max(0.0, (utcnow() - event.occurred_at).total_seconds())
    metrics.count(Metric.AUDIT_EVENTS_RECORDED)
    metrics.observe(Metric.AUDIT_LAG_SECONDS, lag)
    logger.info(
        "Audit event recorded",
        extra={
            "event_id": event.event_id,
            "action": event.action.value,
            "entity": event.entity.value,
            "detail": event.detail,
            "lag_seconds": round(lag, 3),
        },
    )
