"""UserRepository against the real MongoDB-protocol server: versions, timestamps, uniqueness."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.factories import make_user
from todo_common import container
from todo_common.errors import Conflict, NotFound, PreconditionFailed
from todo_common.instants import utcnow
from todo_common.repositories.users import UserRepository, user_search_keys
from todo_common.security.passwords import hash_password

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]


def _fields(username: str, email: str) -> dict[str, Any]:
    full_name = f"Full {username}"
    return {
        "username": username,
        "email": email,
        "fullName": full_name,
        "passwordHash": hash_password("correct-horse-9", 4),
        "role": "USER",
        "isActive": True,
        **user_search_keys(username, email, full_name),
    }


def _stored(db: Db, user_id: str) -> dict[str, Any] | None:
    return db.users.find_one({"_id": ObjectId(user_id)})


def test_insert_starts_at_version_1_with_both_timestamps_now(db: Db) -> None:
    # Given an empty users collection
    before = utcnow()

    # When a user is inserted
    doc = UserRepository(db, container.server()).insert(_fields("ada", "ada@example.com"))

    # Then it is stored at version 1, created and updated at the same UTC instant
    stored = _stored(db, str(doc["_id"]))
    assert stored is not None
    assert stored["version"] == 1
    assert stored["createdAt"] == stored["updatedAt"]
    assert stored["createdAt"].utcoffset() == timedelta(0)
    assert before <= stored["createdAt"].astimezone(UTC) <= utcnow()
    # and what insert returned is what a later read gives back
    assert doc == stored


def test_a_second_user_with_the_same_email_is_a_conflict_naming_email(db: Db) -> None:
    # Given a user with an email
    repo = UserRepository(db, container.server())
    repo.insert(_fields("first", "same@example.com"))

    # When another user is inserted with that email
    with pytest.raises(Conflict) as caught:
        repo.insert(_fields("second", "same@example.com"))

    # Then the error is a 409 that names the email field, and only the first user exists
    assert caught.value.status == 409
    assert "email" in caught.value.detail
    assert "username" not in caught.value.detail
    assert db.users.count_documents({"email": "same@example.com"}) == 1
    assert db.users.count_documents({}) == 1


@pytest.mark.parametrize("second", ["alice", "ALICE", "aLiCe"])
def test_usernames_are_unique_whatever_their_case(db: Db, second: str) -> None:
    # Given a user called "Alice"
    repo = UserRepository(db, container.server())
    repo.insert(_fields("Alice", "alice@example.com"))

    # When another user takes the same name in another case
    with pytest.raises(Conflict) as caught:
        repo.insert(_fields(second, f"{second.lower()}.other@example.com"))

    # Then it is a conflict that names the username, and nothing was added
    assert "username" in caught.value.detail
    assert db.users.count_documents({}) == 1


def test_update_with_the_current_version_applies_and_bumps_the_version(db: Db) -> None:
    # Given a user at version 1
    user = make_user(db, full_name="Before Name")
    repo = UserRepository(db, container.server())

    # When a field is changed with the version that was read
    updated = repo.update(user.id, {"fullName": "After Name"}, expected_version=1)

    # Then the change is stored at version 2, updatedAt moves and createdAt stays
    stored = _stored(db, user.id)
    assert stored is not None
    assert updated == stored
    assert stored["fullName"] == "After Name"
    assert stored["version"] == 2
    assert stored["createdAt"] == user.created_at
    assert stored["updatedAt"] >= user.updated_at


def test_each_update_bumps_the_version_by_exactly_one(db: Db) -> None:
    # Given a user
    user = make_user(db)
    repo = UserRepository(db, container.server())

    # When it is updated three times, each time with the version just read
    versions = []
    for n in range(3):
        current = repo.get(user.id)
        assert current is not None
        doc = repo.update(user.id, {"fullName": f"Name {n}"}, expected_version=current["version"])
        versions.append(doc["version"])

    # Then the versions are consecutive
    assert versions == [2, 3, 4]


def test_update_with_a_stale_version_is_refused_and_changes_nothing(db: Db) -> None:
    # Given a user someone already changed (now version 2)
    user = make_user(db, full_name="Original")
    repo = UserRepository(db, container.server())
    repo.update(user.id, {"fullName": "First writer"}, expected_version=1)
    before = _stored(db, user.id)

    # When a second writer still holding version 1 tries to write
    with pytest.raises(PreconditionFailed) as caught:
        repo.update(user.id, {"fullName": "Second writer"}, expected_version=1)

    # Then it gets a 412 and the document is exactly as the first writer left it
    assert caught.value.status == 412
    assert _stored(db, user.id) == before


def test_an_update_that_would_duplicate_a_username_is_a_conflict_and_changes_nothing(
    db: Db,
) -> None:
    # Given two users
    make_user(db, username="Taken")
    other = make_user(db, username="free-name")
    before = _stored(db, other.id)

    # When the second is renamed to the first's name in another case
    with pytest.raises(Conflict) as caught:
        UserRepository(db, container.server()).update(
            other.id,
            user_search_keys("TAKEN", other.email, other.full_name) | {"username": "TAKEN"},
        )

    # Then the conflict names the username and the second user is unchanged
    assert "username" in caught.value.detail
    assert _stored(db, other.id) == before


@pytest.mark.parametrize(
    "user_id",
    [
        str(ObjectId()),  # well-formed, but nobody has it
        "abc",
        "",
        "0" * 23,
        "g" * 24,
        "0123456789ab",  # 12 characters: ObjectId would take it as raw bytes
        "0" * 25,
    ],
)
def test_a_missing_or_malformed_id_is_not_found(db: Db, user_id: str) -> None:
    # Given a user that exists
    user = make_user(db)
    repo = UserRepository(db, container.server())

    # When some other id is read or updated
    found = repo.get(user_id)
    with pytest.raises(NotFound) as caught:
        repo.update(user_id, {"fullName": "Nobody"}, expected_version=1)

    # Then it is not found (404), and the existing user is untouched
    assert found is None
    assert caught.value.status == 404
    stored = _stored(db, user.id)
    assert stored is not None
    assert stored["version"] == 1
    assert stored["fullName"] == user.full_name
