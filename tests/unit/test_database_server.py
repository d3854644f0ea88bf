"""The database-server adapter: MongoDB needs nothing extra; FerretDB gets its locks and quirks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError, OperationFailure

from todo_common.database_server import FerretDBServer, MongoDBServer, database_server
from todo_common.locks import Locks


class RecordingLocks(Locks):
    def __init__(self) -> None:
        self.held: list[str] = []

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        self.held.append(name)
        yield


def _no_locks() -> Locks:
    raise AssertionError("MongoDB must not touch Redis for a single-document write")


def test_the_setting_chooses_the_adapter_and_mongodb_is_the_default() -> None:
    assert isinstance(database_server("mongodb", _no_locks), MongoDBServer)
    assert not isinstance(database_server("mongodb", _no_locks), FerretDBServer)
    assert isinstance(database_server("ferretdb", _no_locks), FerretDBServer)


def test_on_mongodb_a_version_checked_write_takes_no_lock() -> None:
    with database_server("mongodb", _no_locks).write_guard("tasks", ObjectId()):
        pass


def test_on_ferretdb_a_version_checked_write_holds_the_records_lock() -> None:
    locks = RecordingLocks()
    oid = ObjectId()
    with database_server("ferretdb", lambda: locks).write_guard("tasks", oid):
        assert locks.held == [f"tasks:{oid}"]


@pytest.mark.parametrize(
    ("kind", "error", "unique"),
    [
        ("mongodb", DuplicateKeyError("E11000 duplicate key"), True),
        ("mongodb", OperationFailure("UNIQUE constraint failed: index users_email"), False),
        ("mongodb", OperationFailure("something else"), False),
        ("ferretdb", DuplicateKeyError("E11000 duplicate key"), True),
        ("ferretdb", OperationFailure("UNIQUE constraint failed: index users_email"), True),
        ("ferretdb", OperationFailure("something else"), False),
    ],
)
def test_a_unique_index_clash_is_recognised_as_each_server_reports_it(
    kind: str, error: OperationFailure, unique: bool
) -> None:
    server = database_server("ferretdb" if kind == "ferretdb" else "mongodb", RecordingLocks)
    assert server.is_unique_violation(error) is unique
