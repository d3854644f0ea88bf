"""The audit trail as services use it: after a write that carried an event, send it.

Exactly one event per mutation reaches the audits collection: the event is stored atomically
with the change (the record's outbox), sent to SQS right after, and cleared from the outbox once
sent. If SQS or the clearing fails, the relay sends it later; the consumer ignores an `eventId`
it already recorded, so a second delivery writes nothing.
"""

from __future__ import annotations

from pymongo.errors import PyMongoError

from todo_common.audit.events import AuditEvent
from todo_common.audit.publisher import AuditPublisher
from todo_common.logs import logger
from todo_common.repositories.audits import AuditOutboxRepository
from todo_common.repositories.base import MongoRepository


class AuditTrail:
    def __init__(self, publisher: AuditPublisher, outbox: AuditOutboxRepository) -> None:
        self._publisher = publisher
        self._outbox = outbox

    def written(self, event: AuditEvent, repository: MongoRepository, record_id: str) -> None:
        """`event` was stored in the outbox of `record_id` with its change: send and clear it."""
        if not self._publisher.send(event):
            return
        try:
            repository.clear_outbox(record_id, event.event_id)
        except PyMongoError:  # the relay will send it again; the consumer dedupes
            logger.warning(
                "Sent audit event left in the outbox", extra={"event_id": event.event_id}
            )

    def record(self, event: AuditEvent) -> None:
        """An event of no record (login, logout…): send it, or keep it for the relay."""
        if not self._publisher.send(event):
            self._outbox.keep(event.wire())
