"""What the audit consumer does with one SQS record: validate it and store it once."""

from __future__ import annotations

import json

from todo_common.audit.events import AuditEvent
from todo_common.repositories.audits import AuditRepository


class PoisonMessage(ValueError):
    """A message that can never be recorded (not JSON, or not an audit event)."""


def record_message(body: str, audits: AuditRepository) -> bool:
    """Store the event in `body`; False when its eventId was already recorded (a redelivery).

    Raises `PoisonMessage` for a body that is not an audit event: the batch reports it failed,
    SQS redelivers it, and after the queue's maxReceiveCount it moves to the dead-letter queue.
    """
    try:
        event = AuditEvent.model_validate(json.loads(body))
    except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError alike
        raise PoisonMessage(str(exc)[:200]) from exc
    return audits.record(event.wire())
