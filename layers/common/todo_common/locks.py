"""Short Redis locks, for the few writes whose atomicity the database alone cannot give.

- Per record, on FerretDB only: MongoDB applies `findAndModify` with its version filter
  atomically, but FerretDB 1.x (the local server) reads and writes back without re-checking, so
  two updates with the same `If-Match` could both win. There, version-checked writes of one
  record take turns. On MongoDB (Atlas, docker compose) no lock is taken.
- Around removing an ADMIN (see `UserService`), on every server: that rule spans documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from todo_common.errors import Conflict

if TYPE_CHECKING:  # redis (~75 ms) is not imported where no lock is taken: the audit consumer
    import redis

LOCK_TIMEOUT_SECONDS = 5
WAIT_SECONDS = 3


class Locks:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold `lock:<name>` (waiting up to 3 s); Conflict (409) if it stays taken."""
        lock = self._redis.lock(
            f"lock:{name}", timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=WAIT_SECONDS
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
