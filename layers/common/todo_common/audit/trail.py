"""The audit trail as services use it: every event is stored before the response, sent after.

Exactly one record per mutation reaches the audits collection:
- the event is stored atomically with the change it describes (the record's outbox), or, for a
  login or logout, in `audit_outbox`, before the request answers: nothing accepted is lost;
- it is then sent to SQS off the request path, by one background thread per container, and
  cleared from its outbox once SQS has it. The request never waits on SQS;
- whatever is still in an outbox after `AUDIT_RELAY_MIN_AGE_SECONDS` (SQS down, or a Lambda
  container frozen before its thread ran) is sent by the relay;
- the consumer ignores an `eventId` it already recorded, so a second delivery writes nothing.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from pymongo.errors import PyMongoError

from todo_common.audit.events import AuditEvent
from todo_common.audit.publisher import AuditPublisher
from todo_common.logs import correlated, logger
from todo_common.repositories.audits import AuditOutboxRepository
from todo_common.repositories.base import MongoRepository


class AuditTrail:
    def __init__(self, publisher: AuditPublisher, outbox: AuditOutboxRepository) -> None:
        self._publisher = publisher
        self._outbox = outbox
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sender")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def written(self, event: AuditEvent, repository: MongoRepository, record_id: str) -> None:
        """`event` was stored in the outbox of `record_id` with its change: send and clear it."""
        self._submit(event, lambda: repository.clear_outbox(record_id, event.event_id))

    def record(self, event: AuditEvent) -> None:
        """An event of no record (login, logout…): keep it in `audit_outbox`, then send it."""
        self._outbox.keep(event.wire())
        self._submit(event, lambda: self._outbox.remove(event.event_id))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for the sends in flight (tests, benchmarks, and before the process exits)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def _submit(self, event: AuditEvent, clear: Callable[[], None]) -> None:
        future = self._sender.submit(self._send, event, clear)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _send(self, event: AuditEvent, clear: Callable[[], None]) -> None:
        with correlated(event.request_id):  # this thread's lines belong to the event's request
            if not self._publisher.send(event):
                return  # kept in its outbox; the relay sends it later
            try:
                clear()
            except PyMongoError:  # sent twice later at worst: the consumer dedupes
                logger.warning(
                    "Sent audit event left in its outbox", extra={"event_id": event.event_id}
                )
