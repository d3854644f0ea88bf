"""A personal access token's whole life (issue 21.1), through the functions' Lambda handlers.

Created with a session, shown once, stored as a hash; used as `Authorization: Bearer todo_pat_…`
with its owner's role at the time of the request and its scopes; refused (401) once revoked,
expired or its owner deactivated; never able to do what needs a session; a forged value is a 401
that spends the address's budget of failed lookups, then 429.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from bson import ObjectId
from pymongo.database import Database

from devtools.lambda_local import HttpRequest
from tests.factories import DEFAULT_PASSWORD, make_access_token, make_user
from tests.integration.lambda_events import AuditQueue, FunctionApi, LambdaResponse, UsersApi
from todo_common import container
from todo_common.instants import instant_text, utcnow
from todo_common.principal import Role, Scope
from todo_common.records import User
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
TOKEN = re.compile(r"^todo_pat_[A-Za-z0-9_-]{43}$")  # the README's pattern for secret scanners
IN_30_DAYS = timedelta(days=30)


@pytest.fixture
def users(clean: None) -> UsersApi:
    return UsersApi()


@pytest.fixture
def projects(clean: None) -> FunctionApi:
    return FunctionApi("projects")


def session_of(users: UsersApi, user: User) -> str:
    return users.token_for(user.email, DEFAULT_PASSWORD)


def expiry(after: timedelta = IN_30_DAYS) -> str:
    return instant_text(utcnow() + after)


def create_token(
    users: UsersApi, session: str, scopes: list[str], *, name: str = "nightly CI"
) -> dict[str, Any]:
    response = users.request(
        "POST",
        "/auth/tokens",
        token=session,
        json={"name": name, "scopes": scopes, "expiresAt": expiry()},
    )
    assert response.status == 201, response.body
    body: dict[str, Any] = response.json()
    return body


def stored_token(db: Db, token_id: str) -> dict[str, Any]:
    doc = db.access_tokens.find_one({"_id": ObjectId(token_id)})
    assert doc is not None
    return doc


def refused(response: LambdaResponse, status: int) -> dict[str, Any]:
    assert response.status == status, (response.status, response.body)
    problem = response.problem()
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return problem


# -- create and use ----------------------------------------------------------------------------


def test_a_created_token_is_shown_once_stored_as_its_hash_and_authenticates(
    users: UsersApi, db: Db
) -> None:
    # Given a MANAGER signed in
    manager = make_user(db, role=Role.MANAGER)
    session = session_of(users, manager)

    # When they create a token
    response = users.request(
        "POST",
        "/auth/tokens",
        token=session,
        json={"name": "nightly CI", "scopes": ["read"], "expiresAt": expiry()},
    )

    # Then the answer is 201 at its own path, with the value, once
    assert response.status == 201, response.body
    body = response.json()
    assert response.headers["location"] == f"/auth/tokens/{body['id']}"
    assert TOKEN.match(body["token"])
    assert body["name"] == "nightly CI"
    assert body["scopes"] == ["read"]
    assert body["lastUsedAt"] is None
    assert body["lastUsedFrom"] is None
    # And only the SHA-256 of the value is stored: the value itself is nowhere in the record
    stored = db.access_tokens.find_one({"userId": manager.id})
    assert stored is not None
    assert stored["tokenHash"] == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in json.dumps(stored, default=str)
    # And reading it back never shows the value again
    again = users.request("GET", f"/auth/tokens/{body['id']}", token=session).json()
    assert "token" not in again
    assert again["id"] == body["id"]

    # When the token is used as a bearer credential
    me = users.request("GET", "/users/me", token=body["token"])

    # Then it acts for its owner, counted against the token's own rate budget
    assert me.status == 200, me.body
    assert me.json()["id"] == manager.id
    assert '"default"' in me.headers["ratelimit"]
    # And its last use is recorded, with the client address
    listed = users.request("GET", "/auth/tokens", token=session).json()["items"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert listed[0]["lastUsedAt"] is not None
    assert listed[0]["lastUsedFrom"] == "127.0.0.1"


def test_the_last_use_is_written_at_most_once_a_minute(users: UsersApi, db: Db) -> None:
    # Given a token that was just used
    user = make_user(db)
    record, token = make_access_token(db, user)
    assert users.request("GET", "/users/me", token=token).status == 200
    first = stored_token(db, record.id)
    assert first["lastUsedAt"] is not None

    # When it is used again within the minute
    assert users.request("GET", "/users/me", token=token).status == 200

    # Then the stored use is the first one (no write per request)
    assert stored_token(db, record.id)["lastUsedAt"] == first["lastUsedAt"]

    # And once the recorded use is older than a minute, the next request records itself
    db.access_tokens.update_one(
        {"_id": ObjectId(record.id)}, {"$set": {"lastUsedAt": utcnow() - timedelta(minutes=2)}}
    )
    assert users.request("GET", "/users/me", token=token).status == 200
    assert stored_token(db, record.id)["lastUsedAt"] > first["lastUsedAt"]


# -- scopes ------------------------------------------------------------------------------------


def test_a_read_token_reads_but_any_write_is_403_naming_the_write_scope(
    users: UsersApi, projects: FunctionApi, db: Db
) -> None:
    # Given a MANAGER's read token
    manager = make_user(db, role=Role.MANAGER)
    _, token = make_access_token(db, manager, scopes=(Scope.READ,))

    # When it lists projects, then it may
    assert projects.request("GET", "/projects", token=token).status == 200

    # When it creates a project (which the MANAGER's role allows)
    response = projects.request(
        "POST", "/projects", token=token, json={"name": "Apollo", "description": ""}
    )

    # Then it is 403 problem+json naming the missing scope, and nothing was created
    problem = refused(response, 403)
    assert "`write`" in problem["detail"]
    assert db.projects.count_documents({}) == 0
    # And the same for any other method, on any route: one check, in the caller's dependency
    patch = users.request("PATCH", f"/users/{manager.id}", token=token, json={"fullName": "X"})
    assert "`write`" in refused(patch, 403)["detail"]
    assert refused(users.request("DELETE", f"/users/{manager.id}", token=token), 403)
    assert db.users.count_documents({"_id": ObjectId(manager.id), "isActive": True}) == 1


def test_a_write_token_does_what_its_owners_role_allows(projects: FunctionApi, db: Db) -> None:
    # Given a MANAGER's write token
    manager = make_user(db, role=Role.MANAGER)
    _, token = make_access_token(db, manager, scopes=(Scope.WRITE,))

    # When it creates a project, then the project is the MANAGER's
    response = projects.request(
        "POST", "/projects", token=token, json={"name": "Apollo", "description": ""}
    )
    assert response.status == 201, response.body
    assert response.json()["ownerId"] == manager.id
    # And it reads too: `write` includes reading
    assert projects.request("GET", "/projects", token=token).status == 200


def test_the_owners_role_is_read_at_each_request_never_kept_in_the_token(
    users: UsersApi, projects: FunctionApi, db: Db
) -> None:
    # Given a MANAGER's write token, which can create projects
    manager = make_user(db, role=Role.MANAGER)
    _, token = make_access_token(db, manager, scopes=(Scope.READ, Scope.WRITE))
    body = {"name": "Apollo", "description": ""}
    assert projects.request("POST", "/projects", token=token, json=body).status == 201

    # When an ADMIN demotes the MANAGER to USER
    admin = make_user(db, role=Role.ADMIN)
    demote = users.request(
        "PATCH", f"/users/{manager.id}", token=session_of(users, admin), json={"role": "USER"}
    )
    assert demote.status == 200, demote.body

    # Then the same token's create is 403 (a USER's role), and it still authenticates as a USER
    body = {"name": "Artemis", "description": ""}
    refused(projects.request("POST", "/projects", token=token, json=body), 403)
    assert db.projects.count_documents({}) == 1
    assert users.request("GET", "/users/me", token=token).json()["role"] == "USER"


# -- what needs a session ----------------------------------------------------------------------


def test_a_token_cannot_create_a_token_change_a_password_or_role_or_end_sessions(
    users: UsersApi, db: Db
) -> None:
    # Given an ADMIN's token with every scope, and another session of theirs
    admin = make_user(db, role=Role.ADMIN)
    other = make_user(db)
    session = session_of(users, admin)
    _, token = make_access_token(db, admin, scopes=(Scope.READ, Scope.WRITE))
    before = list(db.users.find({}, {"outbox": 0, "outboxCount": 0}).sort("_id", 1))

    # When the token tries what only someone who logged in may do
    attempts = [
        ("POST", "/auth/tokens", {"name": "x", "scopes": ["read"], "expiresAt": expiry()}),
        ("PATCH", f"/users/{admin.id}", {"password": "a-new-password-1"}),
        ("PATCH", f"/users/{other.id}", {"password": "a-new-password-1"}),
        ("PATCH", f"/users/{other.id}", {"role": "ADMIN"}),
        ("POST", "/auth/logout", None),
        ("DELETE", "/auth/sessions", None),
    ]
    for method, path, body in attempts:
        response = users.request(method, path, token=token, json=body)

        # Then each is 403 saying that it needs a session, and nothing changed
        assert "needs a session" in refused(response, 403)["detail"], (method, path)
    assert db.access_tokens.count_documents({}) == 1
    assert list(db.users.find({}, {"outbox": 0, "outboxCount": 0}).sort("_id", 1)) == before
    assert users.request("GET", "/users/me", token=session).status == 200
    # And a change that needs no session works with the same token
    rename = users.request("PATCH", f"/users/{other.id}", token=token, json={"fullName": "Ok"})
    assert rename.status == 200, rename.body


# -- when a token stops working ----------------------------------------------------------------


def test_a_revoked_token_is_401_and_gone_from_the_list(users: UsersApi, db: Db) -> None:
    # Given a user's token that works
    user = make_user(db)
    session = session_of(users, user)
    created = create_token(users, session, ["read"])
    assert users.request("GET", "/users/me", token=created["token"]).status == 200

    # When they revoke it
    revoke = users.request("DELETE", f"/auth/tokens/{created['id']}", token=session)

    # Then it is 204, its next request is 401, and it is no longer listed or readable
    assert revoke.status == 204, revoke.body
    refused(users.request("GET", "/users/me", token=created["token"]), 401)
    assert users.request("GET", "/auth/tokens", token=session).json()["items"] == []
    refused(users.request("GET", f"/auth/tokens/{created['id']}", token=session), 404)
    refused(users.request("DELETE", f"/auth/tokens/{created['id']}", token=session), 404)
    # And the record stays, inactive, with when it was revoked
    stored = stored_token(db, created["id"])
    assert stored["isActive"] is False
    assert stored["revokedAt"] is not None


def test_an_expired_token_is_401(users: UsersApi, db: Db) -> None:
    # Given a token that works, then its expiry passes
    user = make_user(db)
    record, token = make_access_token(db, user)
    assert users.request("GET", "/users/me", token=token).status == 200
    db.access_tokens.update_one(
        {"_id": ObjectId(record.id)}, {"$set": {"expiresAt": utcnow() - timedelta(seconds=1)}}
    )

    # When it is used, then it is 401
    refused(users.request("GET", "/users/me", token=token), 401)


def test_a_deactivated_owners_tokens_are_401(
    users: UsersApi, projects: FunctionApi, db: Db
) -> None:
    # Given a user's token that works on two functions
    user = make_user(db)
    _, token = make_access_token(db, user)
    assert users.request("GET", "/users/me", token=token).status == 200

    # When an ADMIN deletes (deactivates) the user
    admin = make_user(db, role=Role.ADMIN)
    deleted = users.request("DELETE", f"/users/{user.id}", token=session_of(users, admin))
    assert deleted.status == 204, deleted.body

    # Then the token is 401 on every function, though its record was not touched
    refused(users.request("GET", "/users/me", token=token), 401)
    refused(projects.request("GET", "/projects", token=token), 401)
    assert db.access_tokens.count_documents({"userId": user.id, "isActive": True}) == 1


@pytest.mark.parametrize(
    ("expires_in", "why"),
    [
        (timedelta(seconds=-5), "in the past"),
        (timedelta(days=367), "more than 366 days ahead"),
    ],
)
def test_an_expiry_in_the_past_or_past_366_days_is_422(
    users: UsersApi, db: Db, expires_in: timedelta, why: str
) -> None:
    session = session_of(users, make_user(db))
    body = {"name": "CI", "scopes": ["read"], "expiresAt": expiry(expires_in)}

    problem = refused(users.request("POST", "/auth/tokens", token=session, json=body), 422)

    assert ["body", "expiresAt"] in [e["loc"] for e in problem["errors"]], why
    assert db.access_tokens.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "CI", "scopes": ["read"]},  # no expiry: it is required
        {"name": "CI", "scopes": [], "expiresAt": "2026-12-31"},
        {"name": "CI", "scopes": ["admin"], "expiresAt": "2026-12-31"},
        {"name": "CI", "scopes": ["read", "read"], "expiresAt": "2026-12-31"},
        {"name": "", "scopes": ["read"], "expiresAt": "2026-12-31"},
    ],
)
def test_a_token_without_expiry_or_with_unknown_scopes_is_422(
    users: UsersApi, db: Db, body: dict[str, Any]
) -> None:
    session = session_of(users, make_user(db))
    refused(users.request("POST", "/auth/tokens", token=session, json=body), 422)
    assert db.access_tokens.count_documents({}) == 0


# -- whose tokens ------------------------------------------------------------------------------


def test_a_user_sees_and_revokes_only_their_own_tokens_an_admin_anyones(
    users: UsersApi, db: Db
) -> None:
    # Given two users with a token each, and an ADMIN
    alice, bob = make_user(db), make_user(db)
    alices, _ = make_access_token(db, alice)
    bobs, bob_token = make_access_token(db, bob)
    alice_session, admin_session = (
        session_of(users, alice),
        session_of(users, make_user(db, role=Role.ADMIN)),
    )

    # Then Alice lists her own, may not list Bob's, and Bob's token is a 404 to her
    mine = users.request("GET", "/auth/tokens", token=alice_session).json()["items"]
    assert [t["id"] for t in mine] == [alices.id]
    refused(
        users.request("GET", "/auth/tokens", token=alice_session, query={"userId": bob.id}), 403
    )
    refused(users.request("GET", f"/auth/tokens/{bobs.id}", token=alice_session), 404)
    refused(users.request("DELETE", f"/auth/tokens/{bobs.id}", token=alice_session), 404)
    assert users.request("GET", "/users/me", token=bob_token).status == 200

    # And an ADMIN lists Bob's and revokes one
    listed = users.request("GET", "/auth/tokens", token=admin_session, query={"userId": bob.id})
    assert [t["id"] for t in listed.json()["items"]] == [bobs.id]
    assert users.request("DELETE", f"/auth/tokens/{bobs.id}", token=admin_session).status == 204
    refused(users.request("GET", "/users/me", token=bob_token), 401)


def test_a_token_may_revoke_itself(users: UsersApi, db: Db) -> None:
    user = make_user(db)
    record, token = make_access_token(db, user, scopes=(Scope.WRITE,))

    assert users.request("DELETE", f"/auth/tokens/{record.id}", token=token).status == 204
    refused(users.request("GET", "/users/me", token=token), 401)


# -- forged values and the address budget ------------------------------------------------------


@pytest.fixture
def lookup_budget_of_3(clean: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("SECURITY_TOKEN_MAX_FAILURES_PER_ADDRESS", "3")
    get_settings.cache_clear()
    container.reset()
    yield 3
    monkeypatch.undo()
    get_settings.cache_clear()
    container.reset()


def from_address(api: FunctionApi, address: str, token: str) -> LambdaResponse:
    request = HttpRequest.of("GET", "/users/me", token=token)
    return api.invoke(dataclasses.replace(request, source_ip=address))


def test_forged_values_are_401_and_spend_the_address_budget_then_429(
    lookup_budget_of_3: int, db: Db, redis_client: redis.Redis
) -> None:
    users = UsersApi()
    _, good = make_access_token(db, make_user(db))
    forged = [
        "todo_pat_" + "A" * 43,  # well formed, unknown
        "todo_pat_short",  # malformed
        "todo_pat_" + "B" * 43,
    ]

    # When one address sends as many forged values as its budget allows
    for value in forged[:lookup_budget_of_3]:
        # Then each is the same 401
        problem = refused(from_address(users, "198.51.100.7", value), 401)
        assert "unknown, revoked or expired" in problem["detail"]

    # And the next one is 429 with Retry-After, even with a good token, without a lookup
    throttled = from_address(users, "198.51.100.7", "todo_pat_" + "C" * 43)
    refused(throttled, 429)
    assert 0 < int(throttled.headers["retry-after"]) <= get_settings().security.login_window_seconds
    refused(from_address(users, "198.51.100.7", good), 429)
    # And another address is not affected, nor are the login budgets
    assert from_address(users, "198.51.100.8", good).status == 200
    assert not list(redis_client.scan_iter("login-failures*"))


def test_good_tokens_give_their_unit_back(lookup_budget_of_3: int, db: Db) -> None:
    # Given a good token, used more often than the budget of failures
    users = UsersApi()
    _, good = make_access_token(db, make_user(db))
    for _ in range(lookup_budget_of_3 + 2):
        assert from_address(users, "198.51.100.9", good).status == 200

    # Then the address still has its whole budget of failures
    for _ in range(lookup_budget_of_3):
        refused(from_address(users, "198.51.100.9", "todo_pat_" + "D" * 43), 401)
    refused(from_address(users, "198.51.100.9", "todo_pat_" + "D" * 43), 429)


# -- the audit trail ---------------------------------------------------------------------------


def test_creating_and_revoking_a_token_are_audit_events_without_its_value(
    queue: AuditQueue, db: Db
) -> None:
    # Given a user signed in
    users = UsersApi()
    user = make_user(db)
    session = session_of(users, user)

    # When they create a token and revoke it
    created = create_token(users, session, ["read", "write"])
    assert users.request("DELETE", f"/auth/tokens/{created['id']}", token=session).status == 204

    # Then two events name the token, by the user, and neither holds its value or hash
    bodies = [m["Body"] for m in queue.receive()]
    events = [json.loads(b) for b in bodies if '"ACCESS_TOKEN"' in b]
    summary = [(e["action"], e["detail"], e["entityId"], e["actorId"]) for e in events]
    assert sorted(summary) == [
        ("CREATE", "CREATE_ACCESS_TOKEN", created["id"], user.id),
        ("DELETE", "REVOKE_ACCESS_TOKEN", created["id"], user.id),
    ]
    create = next(e for e in events if e["action"] == "CREATE")
    assert create["changes"]["scopes"]["to"] == ["read", "write"]
    assert create["changes"]["name"]["to"] == "nightly CI"
    for body in bodies:
        assert created["token"] not in body
        assert hashlib.sha256(created["token"].encode()).hexdigest() not in body
