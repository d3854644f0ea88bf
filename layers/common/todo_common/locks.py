"""Short Redis locks, for the few writes whose atomicity the database alone cannot give.

- Per record, on FerretDB only (the local server; `database_server.py` decides): its
  `findAndModify` is not atomic, so there version-checked writes of one record take turns. On
  MongoDB (Atlas, docker compose) no lock is taken.
- Around removing an ADMIN (see `UserService`), on every server: that rule spans documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from todo_common.errors import Conflict
from todo_common.settings import DependencyTimeouts

if TYPE_CHECKING:  # redis (~75 ms) is not imported where no lock is taken: the audit consumer
    import redis


class Locks:
    """Locks sized by the dependency budget (docs/decisions.md, "Timeouts").

    A lock guards MongoDB operations that each end within `mongo_operation_ms`, so it expires
    after the whole budget: a lock whose holder gave up (its request ended in a 503, or its
    release never reached a frozen Redis, which applies the `SET` when it resumes) refuses
    others for at most that long. A writer waits for a taken lock no longer than Redis's share,
    so waiting plus its own MongoDB write stays within the budget too.
    """

    def __init__(self, client: redis.Redis, timeouts: DependencyTimeouts) -> None:
        self._redis = client
        self._expire_seconds = timeouts.budget_ms / 1000
        self._wait_seconds = (timeouts.budget_ms - timeouts.mongo_operation_ms) / 1000

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold `lock:<name>` (waiting a moment); Conflict (409) if it stays taken."""
        lock = self._redis.lock(
            f"lock:{name}", timeout=self._expire_seconds, blocking_timeout=self._wait_seconds
        )
        if not lock.acquire():
            raise Conflict("Another change to this resource is in progress; retry shortly")
        try:
            yield
        finally:
            from redis.exceptions import LockError

            # Expired while held: harmless, the write itself was still version-checked.
            with suppress(LockError):
                lock.release()
