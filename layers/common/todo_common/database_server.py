"""Everything the local MongoDB-protocol server needs that MongoDB does not, in one place.

The API is written for MongoDB (Atlas in AWS, MongoDB 7 in docker compose). Development and the
tests run on FerretDB 1.24 (SQLite), which differs in three ways that matter here:
- `findAndModify` with a version filter is not atomic (it reads, then writes back without
  re-checking), so two updates with the same `If-Match` could both win: version-checked writes
  and outbox clears of one record take turns under a short Redis lock (`locks.py`);
- a unique-index clash on update is a generic `OperationFailure` ("UNIQUE constraint failed"),
  not a `DuplicateKeyError`;
- `createIndexes` naming an index that already exists drops the connection, so only missing
  indexes are created (harmless on MongoDB, where it is idempotent anyway).

The adapter is chosen by `DATABASE_SERVER` (`mongodb`, the default, or `ferretdb`, which
`scripts/servers.py` sets for the server it starts): production code paths run no probe of the
server and take no lock.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Literal

from bson import ObjectId
from pymongo.errors import DuplicateKeyError, PyMongoError

from todo_common.locks import Locks

ServerKind = Literal["mongodb", "ferretdb"]


class MongoDBServer:
    """MongoDB: every single-document write is atomic; nothing extra is needed."""

    kind: ServerKind = "mongodb"

    def write_guard(self, collection: str, oid: ObjectId) -> AbstractContextManager[None]:
        """What a version-checked write of one record runs under."""
        return nullcontext()

    def is_unique_violation(self, exc: PyMongoError) -> bool:
        return isinstance(exc, DuplicateKeyError)


class FerretDBServer(MongoDBServer):
    """FerretDB 1.x: per-record locks around version-checked writes; its unique-clash message."""

    kind: ServerKind = "ferretdb"

    def __init__(self, locks: Callable[[], Locks]) -> None:
        self._locks = locks  # a factory: the Redis client is made on first use, not at import

    def write_guard(self, collection: str, oid: ObjectId) -> AbstractContextManager[None]:
        return self._locks().hold(f"{collection}:{oid}")

    def is_unique_violation(self, exc: PyMongoError) -> bool:
        return super().is_unique_violation(exc) or "UNIQUE constraint failed" in str(exc)


DatabaseServer = MongoDBServer


def database_server(kind: ServerKind, locks: Callable[[], Locks]) -> DatabaseServer:
    return FerretDBServer(locks) if kind == "ferretdb" else MongoDBServer()
