"""Index creation is an explicit, repeatable command (`make dev` runs it on every start)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

from todo_common.indexes import ensure_indexes

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
# The unique ones, and one list index per (equality filters, sort) of the directory, each ending
# in the multikey `searchKeys` that `q` ranges over (tests/unit/test_index_shapes.py).
USER_INDEXES = {
    "users_email_unique",
    "users_username_unique",
    *(
        f"users_{eq}{sort}__id_searchKeys"
        for eq in ("", "isActive_", "role_", "isActive_role_")
        for sort in ("createdAt", "updatedAt", "usernameKey")
    ),
}


def test_the_users_collection_has_its_unique_and_list_indexes(db: Db) -> None:
    # Given the indexes the test session created once
    info = db.users.index_information()

    # Then every declared index exists, and email and username are unique
    assert set(info) >= USER_INDEXES
    assert info["users_email_unique"].get("unique") is True
    assert info["users_username_unique"].get("unique") is True


def test_creating_the_indexes_again_changes_nothing(db: Db) -> None:
    # Given a database whose indexes already exist (as after a first `make dev`)
    before = db.users.index_information()

    # When the index command runs again (the second `make dev`, or the CLI)
    created = ensure_indexes(db)

    # Then it succeeds and reports the same indexes, which are unchanged
    assert set(created["users"]) == USER_INDEXES
    assert db.users.index_information() == before
