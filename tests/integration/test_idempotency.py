"""`Idempotency-Key` on creates: a retry replays the first answer and creates nothing new."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
import redis
from aws_lambda_powertools.utilities.typing import LambdaContext
from pymongo.database import Database

from devtools.lambda_local import context_of, function_at
from tests.factories import DEFAULT_PASSWORD, WITHOUT_OUTBOX, make_user, settle_audit_sends
from tests.integration.lambda_events import UsersApi
from todo_common import container
from todo_common.errors import Conflict, DomainError, InvalidInput
from todo_common.http.responses import created
from todo_common.idempotency import StoredResponse
from todo_common.principal import Principal, Role
from todo_common.records import User
from todo_common.schemas.users import UserCreate, UserPublic

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
KEY = "3f1c8a52-create-user"


def new_user_body(username: str = "newcomer", **changes: Any) -> UserCreate:
    data: dict[str, Any] = {
        "username": username,
        "email": f"{username}@example.com",
        "fullName": "New Comer",
        "password": "a-strong-pass-1",
    }
    return UserCreate.model_validate(data | changes)


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id="session-of-" + user.id)


def create_user(principal: Principal, body: UserCreate, key: str = KEY) -> StoredResponse:
    """What `POST /users` with an Idempotency-Key does: the service inside IdempotentCreates."""
    service = container.user_service()

    def create() -> StoredResponse:
        return created(UserPublic.of(service.create(principal, body)), "/users")

    return container.idempotent_creates().run(
        caller=principal.user_id,
        operation="POST /users",
        key=key,
        body=body.model_dump(mode="json"),
        create=create,
        lambda_context=cast("LambdaContext", context_of(function_at("users"))),
    )


@pytest.fixture
def admin(db: Db, clean: None) -> Principal:
    return principal_of(make_user(db, role=Role.ADMIN))


def users_named(db: Db, username: str) -> int:
    return db.users.count_documents({"usernameKey": username.lower()})


def test_a_retry_with_the_same_key_and_body_replays_and_creates_nothing(
    db: Db, admin: Principal
) -> None:
    # Given a user created with an Idempotency-Key
    first = create_user(admin, new_user_body())

    # When the same request is sent again with the same key
    again = create_user(admin, new_user_body())

    # Then the stored response comes back, marked as replayed, and there is still one user
    assert first["status"] == 201
    assert not first.get("replayed")
    assert again == first | {"replayed": True}
    assert users_named(db, "newcomer") == 1


def test_the_same_key_with_another_body_is_invalid_input(db: Db, admin: Principal) -> None:
    # Given a user created with an Idempotency-Key
    create_user(admin, new_user_body())

    # When the key is reused for a different user
    with pytest.raises(InvalidInput) as caught:
        create_user(admin, new_user_body("someone-else"))

    # Then it is a 422 about the key, and the second user was not created
    assert caught.value.status == 422
    assert [list(e.loc) for e in caught.value.errors] == [["header", "Idempotency-Key"]]
    assert users_named(db, "someone-else") == 0
    assert db.users.count_documents({}) == 2  # the admin and the first user


def test_another_caller_with_the_same_key_creates_separately(db: Db, admin: Principal) -> None:
    # Given one ADMIN's create with a key
    other_admin = principal_of(make_user(db, role=Role.ADMIN))
    first = create_user(admin, new_user_body("by-first-admin"))

    # When another ADMIN happens to use the same key for their own user
    second = create_user(other_admin, new_user_body("by-other-admin"))

    # Then both users exist: a key only deduplicates one caller's retries
    assert not second.get("replayed")
    assert second["body"]["id"] != first["body"]["id"]
    assert users_named(db, "by-first-admin") == 1
    assert users_named(db, "by-other-admin") == 1


def test_a_create_that_failed_can_be_retried_with_the_same_key(db: Db, admin: Principal) -> None:
    # Given an attempt that failed because the email is taken
    make_user(db, username="holder", email="wanted@example.com")
    body = new_user_body("wanted", email="wanted@example.com")
    with pytest.raises(Conflict):
        create_user(admin, body)

    # When the email is freed and the same request is retried with the same key
    settle_audit_sends()  # a background outbox clear must not overwrite this
    db.users.update_one({"usernameKey": "holder"}, {"$set": {"email": "moved@example.com"}})
    retried = create_user(admin, body)

    # Then the retry really runs (a failure is not stored as the answer)
    assert retried["status"] == 201
    assert not retried.get("replayed")
    assert users_named(db, "wanted") == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_that_is_empty_or_too_long_is_invalid_input(
    db: Db, admin: Principal, key: str
) -> None:
    with pytest.raises(InvalidInput):
        create_user(admin, new_user_body(), key=key)
    assert users_named(db, "newcomer") == 0


def test_parallel_retries_with_one_key_create_one_user(
    db: Db, admin: Principal, redis_client: redis.Redis
) -> None:
    # Given eight clients sending the same create with the same key at the same moment
    body = new_user_body("racer")
    start = threading.Barrier(8)

    def attempt() -> StoredResponse | DomainError:
        start.wait()
        try:
            return create_user(admin, body)
        except DomainError as exc:
            return exc

    # When they all run
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: attempt(), range(8)))

    # Then exactly one user was created
    assert users_named(db, "racer") == 1
    # and every answer is either that 201 (the original or a replay of it) or a 409 saying
    # the first request is still in progress
    responses = [o for o in outcomes if isinstance(o, dict)]
    conflicts = [o for o in outcomes if not isinstance(o, dict)]
    assert len(responses) + len(conflicts) == 8
    originals = [r for r in responses if not r.get("replayed")]
    assert len(originals) == 1
    assert all(r == originals[0] | {"replayed": True} for r in responses if r.get("replayed"))
    assert all(isinstance(c, Conflict) and "in progress" in c.detail for c in conflicts), [
        f"{type(c).__name__}: {c}" for c in conflicts
    ]
    # and a retry now replays it
    assert create_user(admin, body) == originals[0] | {"replayed": True}


# -- over HTTP ---------------------------------------------------------------------------------


def test_http_retry_replays_status_headers_and_body_with_idempotent_replayed(
    db: Db, clean: None
) -> None:
    # Given an ADMIN who created a user with an Idempotency-Key
    api = UsersApi()
    admin = make_user(db, role=Role.ADMIN)
    token = api.token_for(admin.email, DEFAULT_PASSWORD)
    body = new_user_body("via-http").model_dump(mode="json", by_alias=True)
    headers = {"Idempotency-Key": KEY}
    first = api.request("POST", "/users", token=token, json=body, headers=headers)
    assert first.status == 201, first.body

    # When the client retries the request
    again = api.request("POST", "/users", token=token, json=body, headers=headers)

    # Then it gets the same 201, Location, ETag and body, marked replayed, and nothing new
    assert again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert again.json() == first.json()
    assert users_named(db, "via-http") == 1


def test_http_reuse_of_a_key_with_another_body_is_422(db: Db, clean: None) -> None:
    # Given an ADMIN who created a user with an Idempotency-Key
    api = UsersApi()
    admin = make_user(db, role=Role.ADMIN)
    token = api.token_for(admin.email, DEFAULT_PASSWORD)
    headers = {"Idempotency-Key": KEY}
    body = new_user_body("first-body").model_dump(mode="json", by_alias=True)
    assert api.request("POST", "/users", token=token, json=body, headers=headers).status == 201
    before = list(db.users.find({}, WITHOUT_OUTBOX).sort("_id"))

    # When the key is sent again with a different body
    other = new_user_body("second-body").model_dump(mode="json", by_alias=True)
    response = api.request("POST", "/users", token=token, json=other, headers=headers)

    # Then the answer is a 422 problem and nothing changed in MongoDB
    assert response.status == 422
    problem = response.problem()
    assert {"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"} in problem[
        "errors"
    ]
    assert list(db.users.find({}, WITHOUT_OUTBOX).sort("_id")) == before
