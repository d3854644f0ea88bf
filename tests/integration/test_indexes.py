"""Index creation is an explicit, repeatable command (`make dev` runs it on every start)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

from todo_common.indexes import REPOSITORIES, ensure_indexes
from todo_common.repositories.tasks import TaskRepository

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
# The unique ones, and one list index per sort of the directory, each ending in the multikey
# `searchKeys` that `q` ranges over (tests/unit/test_index_shapes.py).
USER_INDEXES = {
    "users_email_unique",
    "users_username_unique",
    *(
        f"users_isActive_role_{sort}__id_searchKeys"
        for sort in ("createdAt", "updatedAt", "usernameKey")
    ),
}
# Two of the 27 indexes the tasks had before the design grew linearly (issue 17)
OLD_TASK_INDEXES = {
    "tasks_isActive_projectId_status_createdAt__id_dueSort": [
        ("isActive", 1),
        ("projectId", 1),
        ("status", 1),
        ("createdAt", 1),
        ("_id", 1),
        ("dueSort", 1),
    ],
    "tasks_assignedTo_status": [("assignedTo", 1), ("status", 1)],
}


def _keys(db: Db, collection: str) -> dict[str, list[tuple[str, int]]]:
    return {
        name: [(field, int(direction)) for field, direction in info["key"]]
        for name, info in db[collection].index_information().items()
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


def test_given_a_database_with_an_old_design_then_the_command_drops_what_is_not_declared(
    db: Db,
) -> None:
    # Given a deployed database still holding indexes of the old design, a declared index whose
    # keys changed since it was built, and an index an operator made by hand
    tasks = db.tasks
    tasks.insert_one({"description": "keeps the collection"})
    for name, keys in OLD_TASK_INDEXES.items():
        tasks.create_index(keys, name=name)
    tasks.drop_index("tasks_cascadeId")
    tasks.create_index([("cascadeId", -1)], name="tasks_cascadeId")
    tasks.create_index([("description", 1)], name="by_hand_description")
    try:
        # When the index command runs
        created = ensure_indexes(db)

        # Then the tasks have exactly the declared indexes, with the declared keys, plus `_id_`
        # and the one made by hand, which is not the command's to drop
        declared = {
            m.document["name"]: [(f, int(d)) for f, d in m.document["key"].items()]
            for m in TaskRepository.indexes
        }
        assert set(created["tasks"]) == set(declared)
        assert _keys(db, "tasks") == {
            **declared,
            "_id_": [("_id", 1)],
            "by_hand_description": [("description", 1)],
        }
    finally:
        tasks.drop_index("by_hand_description")


def test_no_collection_has_more_than_twelve_indexes(db: Db) -> None:
    # Given the indexes the test session created once
    for repo in REPOSITORIES:
        info = db[repo.collection_name].index_information()

        # Then each collection has its declared ones and `_id_`, and no more than 12 (MongoDB's
        # limit is 64, and every write maintains each one; issue 17)
        assert len(info) == len(repo.indexes) + 1 <= 12, repo.collection_name
