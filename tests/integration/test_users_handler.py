"""The users function through its real Lambda handler, fed API Gateway HTTP API events.

Each case checks what the client sees (status, headers, body) and what is left in MongoDB and
Redis; every refused request must leave the stored users exactly as they were.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import redis
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import ATTACKER_EC_KEY, api_kid
from tests.factories import DEFAULT_PASSWORD, WITHOUT_OUTBOX, make_user
from tests.integration.lambda_events import LambdaResponse, UsersApi
from todo_common import container
from todo_common.principal import Role
from todo_common.records import User
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def api(clean: None) -> UsersApi:
    return UsersApi()


def users_in_db(db: Db) -> list[dict[str, Any]]:
    """Every stored user, in a stable order: what a refused request must not change."""
    return list(db.users.find({}, WITHOUT_OUTBOX).sort("_id", 1))


def logged_in(api: UsersApi, db: Db, role: Role = Role.USER, **kwargs: Any) -> tuple[User, str]:
    user = make_user(db, role=role, **kwargs)
    return user, api.token_for(user.email, DEFAULT_PASSWORD)


def problem_of(response: LambdaResponse, status: int, path: str) -> dict[str, Any]:
    assert response.status == status, (response.status, response.body)
    problem = response.problem()
    assert problem["instance"] == path
    assert problem["type"].startswith("https://")
    assert "Traceback" not in response.body.decode()
    return problem


def new_user(username: str = "new.person", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": username,
        "email": f"{username}@Example.COM",
        "fullName": "New Person",
        "password": "a-strong-pass-1",
    }
    return body | changes


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# -- authentication ----------------------------------------------------------------------------


def test_login_returns_a_bearer_token_pair_for_a_new_session(
    api: UsersApi, db: Db, redis_client: redis.Redis
) -> None:
    # Given a user
    user = make_user(db)

    # When they log in
    response = api.request(
        "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )

    # Then they get both tokens, OAuth2-style, and a session exists for them in Redis
    assert response.status == 200
    assert response.content_type.startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().security.access_token_expire_minutes * 60
    sid = claims_of(body["access_token"])["sid"]
    assert redis_client.hget(f"session:{sid}", "userId") == user.id


def test_the_oauth2_form_login_works_too(api: UsersApi, db: Db) -> None:
    # Given a user
    user = make_user(db)

    # When they log in with the OAuth2 password form (the docs' Authorize button)
    form = urlencode({"username": user.email, "password": DEFAULT_PASSWORD}).encode()
    response = api.request(
        "POST",
        "/auth/token",
        body=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    # Then the token works for /users/me
    assert response.status == 200, response.body
    me = api.request("GET", "/users/me", token=response.json()["access_token"])
    assert me.json()["id"] == user.id


def test_a_bad_login_is_401_without_telling_what_was_wrong(api: UsersApi, db: Db) -> None:
    # Given a user
    user = make_user(db)

    # When one login has a wrong password and another an unknown email
    wrong_password = api.request(
        "POST", "/auth/login", json={"email": user.email, "password": "not-it-123"}
    )
    unknown = api.request(
        "POST", "/auth/login", json={"email": "who@example.com", "password": DEFAULT_PASSWORD}
    )

    # Then both are the same 401 problem
    first = problem_of(wrong_password, 401, "/auth/login")
    second = problem_of(unknown, 401, "/auth/login")
    assert first["detail"] == second["detail"]
    assert wrong_password.headers["www-authenticate"].startswith("Bearer")


def test_me_returns_the_caller_with_its_version_as_etag(api: UsersApi, db: Db) -> None:
    # Given a logged-in MANAGER
    user, token = logged_in(api, db, Role.MANAGER, full_name="Mia Manager")

    # When they ask who they are
    response = api.request("GET", "/users/me", token=token)

    # Then they get their public record, camelCase, with ETag "1" and no password hash
    assert response.status == 200
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body == {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "fullName": "Mia Manager",
        "role": "MANAGER",
        "isActive": True,
        "version": 1,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    assert ISO_UTC.match(body["createdAt"]), body["createdAt"]
    assert ISO_UTC.match(body["updatedAt"]), body["updatedAt"]


def test_without_a_token_it_is_401_with_a_bearer_challenge(api: UsersApi) -> None:
    response = api.request("GET", "/users/me")

    problem_of(response, 401, "/users/me")
    assert response.headers["www-authenticate"].startswith("Bearer")


def _other_key_token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, ATTACKER_EC_KEY, algorithm="ES256", headers={"kid": api_kid()})


def _none_alg_token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, "", algorithm="none")


def _tampered_role_token(claims: dict[str, Any]) -> str:
    real = container.token_service().encode(claims)
    header, _, signature = real.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims | {"role": "ADMIN"}).encode())
    return f"{header}.{payload.decode().rstrip('=')}.{signature}"


@pytest.mark.parametrize(
    "forge",
    [_other_key_token, _none_alg_token, _tampered_role_token],
    ids=["signed-with-another-key", "alg-none", "payload-changed"],
)
def test_a_forged_token_is_401_with_a_bearer_challenge(
    api: UsersApi, db: Db, forge: Callable[[dict[str, Any]], str]
) -> None:
    # Given a real session, and a token forged from its claims
    _, token = logged_in(api, db)
    forged = forge(claims_of(token))

    # When the forged token is presented
    response = api.request("GET", "/users/me", token=forged)

    # Then it is refused with a Bearer challenge
    problem_of(response, 401, "/users/me")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", ""])
def test_garbage_tokens_are_401(api: UsersApi, token: str) -> None:
    response = api.request("GET", "/users/me", headers={"Authorization": f"Bearer {token}"})

    problem_of(response, 401, "/users/me")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_refresh_token_is_not_an_access_token(api: UsersApi, db: Db) -> None:
    user = make_user(db)
    tokens = api.login(user.email, DEFAULT_PASSWORD)

    response = api.request("GET", "/users/me", token=tokens["refresh_token"])

    problem_of(response, 401, "/users/me")


def test_an_expired_token_is_401(api: UsersApi, db: Db) -> None:
    # Given a token of a live session, correctly signed, that expired an hour ago
    _, token = logged_in(api, db)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    claims = claims_of(token) | {"iat": an_hour_ago - timedelta(minutes=15), "exp": an_hour_ago}
    expired = container.token_service().encode(claims)

    # When it is presented
    response = api.request("GET", "/users/me", token=expired)

    # Then it is refused as expired, with a Bearer challenge
    problem = problem_of(response, 401, "/users/me")
    assert "expired" in problem["detail"].lower()
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_logout_is_204_and_the_token_stops_working_at_once(
    api: UsersApi, db: Db, redis_client: redis.Redis
) -> None:
    # Given a logged-in user
    _, token = logged_in(api, db)
    sid = claims_of(token)["sid"]

    # When they log out
    response = api.request("POST", "/auth/logout", token=token)

    # Then it is a 204, the session is gone from Redis and the token is refused
    assert response.status == 204
    assert response.body == b""
    assert redis_client.exists(f"session:{sid}") == 0
    problem_of(api.request("GET", "/users/me", token=token), 401, "/users/me")


def test_a_reused_refresh_token_ends_the_session_over_http(api: UsersApi, db: Db) -> None:
    # Given a session whose refresh token has been rotated once
    user = make_user(db)
    first = api.login(user.email, DEFAULT_PASSWORD)
    second = api.request("POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status == 200
    new_access = second.json()["access_token"]

    # When the old refresh token is used again
    reuse = api.request("POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]})

    # Then it is a 401, and the tokens the rotation gave out are dead too
    problem_of(reuse, 401, "/auth/refresh")
    problem_of(api.request("GET", "/users/me", token=new_access), 401, "/users/me")


# -- creating users ----------------------------------------------------------------------------


def test_an_admin_creates_a_user_201_with_location_and_etag(api: UsersApi, db: Db) -> None:
    # Given a logged-in ADMIN
    _, token = logged_in(api, db, Role.ADMIN)

    # When they create a user with a mixed-case email
    response = api.request("POST", "/users", token=token, json=new_user(role="MANAGER"))

    # Then it is a 201 pointing at the new user, at version 1
    assert response.status == 201, response.body
    body = response.json()
    assert response.headers["location"] == f"/users/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["username"] == "new.person"
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "MANAGER"
    assert body["isActive"] is True
    assert "password" not in body
    assert "passwordHash" not in body
    # and MongoDB holds it, email lower-cased, password bcrypt-hashed
    stored = db.users.find_one({"_id": ObjectId(body["id"])})
    assert stored is not None
    assert stored["email"] == "new.person@example.com"
    assert stored["version"] == 1
    assert stored["passwordHash"].startswith("$2")
    assert "a-strong-pass-1" not in json.dumps(stored, default=str)
    # and the new user can log in with the password given
    assert api.login("new.person@example.com", "a-strong-pass-1")["token_type"] == "bearer"


@pytest.mark.parametrize("role", [Role.USER, Role.MANAGER])
def test_only_an_admin_may_create_users(api: UsersApi, db: Db, role: Role) -> None:
    # Given a logged-in USER or MANAGER
    _, token = logged_in(api, db, role)
    before = users_in_db(db)

    # When they try to create a user
    response = api.request("POST", "/users", token=token, json=new_user())

    # Then it is a 403 problem and nothing was created
    assert problem_of(response, 403, "/users")["title"] == "Forbidden"
    assert users_in_db(db) == before


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        (b'{"username": "x", "email": ', None),
        (json.dumps(new_user(isAdmin=True)).encode(), "isAdmin"),
        (json.dumps(new_user(passwordHash="$2b$04$forged")).encode(), "passwordHash"),
        (json.dumps(new_user(email="not-an-email")).encode(), "email"),
        (json.dumps(new_user(password="p" * 73)).encode(), "password"),
        # 37 characters, but 74 UTF-8 bytes: the limit is on bytes, and never truncated
        (json.dumps(new_user(password="é" * 37)).encode(), "password"),
        (json.dumps(new_user(password="short")).encode(), "password"),
        (json.dumps(new_user(role="ROOT")).encode(), "role"),
        (json.dumps([new_user()]).encode(), None),
    ],
    ids=[
        "malformed-json",
        "unknown-field",
        "mass-assigned-hash",
        "invalid-email",
        "password-73-bytes",
        "password-74-utf8-bytes",
        "password-too-short",
        "unknown-role",
        "array-not-object",
    ],
)
def test_invalid_create_bodies_are_422_and_create_nothing(
    api: UsersApi, db: Db, body: bytes, bad_field: str | None
) -> None:
    # Given a logged-in ADMIN
    _, token = logged_in(api, db, Role.ADMIN)
    before = users_in_db(db)

    # When they send a body that is not a valid new user
    response = api.request("POST", "/users", token=token, body=body)

    # Then it is a 422 problem listing what is wrong, and MongoDB is unchanged
    problem = problem_of(response, 422, "/users")
    assert problem["errors"]
    assert all(set(error) == {"loc", "msg"} for error in problem["errors"])
    if bad_field is not None:
        assert any(bad_field in error["loc"] for error in problem["errors"]), problem["errors"]
    assert users_in_db(db) == before


def test_malformed_json_is_reported_as_such(api: UsersApi, db: Db) -> None:
    _, token = logged_in(api, db, Role.ADMIN)

    response = api.request("POST", "/users", token=token, body=b"{not json")

    problem = problem_of(response, 422, "/users")
    assert any("JSON" in error["msg"] for error in problem["errors"])


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_body_over_64_kib_is_413_and_creates_nothing(
    api: UsersApi, db: Db, declared: bool
) -> None:
    # Given a logged-in ADMIN
    _, token = logged_in(api, db, Role.ADMIN)
    before = users_in_db(db)

    # When they send a 70 KB user (whether or not the length is declared up front)
    body = json.dumps(new_user(fullName="x" * 70 * 1024)).encode()
    response = api.request("POST", "/users", token=token, body=body, declare_length=declared)

    # Then it is a 413 problem, and nothing was created
    problem = problem_of(response, 413, "/users")
    assert problem["title"] == "Content Too Large"
    assert users_in_db(db) == before


def test_a_duplicate_email_is_a_409_naming_the_email(api: UsersApi, db: Db) -> None:
    # Given a user with an email, and a logged-in ADMIN
    make_user(db, email="taken@example.com")
    _, token = logged_in(api, db, Role.ADMIN)
    before = users_in_db(db)

    # When the ADMIN creates another user with that email in another case
    response = api.request(
        "POST", "/users", token=token, json=new_user("second", email="TAKEN@example.com")
    )

    # Then it is a 409 that says which field clashed, and nothing was created
    problem = problem_of(response, 409, "/users")
    assert "email" in problem["detail"]
    assert users_in_db(db) == before


# -- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["abc", "0" * 23, str(ObjectId())])
def test_a_malformed_or_unknown_id_is_404(api: UsersApi, db: Db, user_id: str) -> None:
    # Given a logged-in ADMIN
    _, token = logged_in(api, db, Role.ADMIN)

    # When they read a user by an id that is malformed or nobody's
    response = api.request("GET", f"/users/{user_id}", token=token)

    # Then it is a 404 problem
    assert problem_of(response, 404, f"/users/{user_id}")["title"] == "Not Found"


def test_a_user_reads_their_own_record_with_etag(api: UsersApi, db: Db) -> None:
    user, token = logged_in(api, db)

    response = api.request("GET", f"/users/{user.id}", token=token)

    assert response.status == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["id"] == user.id


# -- updating ----------------------------------------------------------------------------------


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(api: UsersApi, db: Db) -> None:
    # Given a user that was changed once since version 1 was read
    user, token = logged_in(api, db)
    first = api.request(
        "PATCH",
        f"/users/{user.id}",
        token=token,
        json={"fullName": "First Change"},
        headers={"If-Match": '"1"'},
    )
    assert first.status == 200, first.body
    assert first.headers["etag"] == '"2"'
    before = users_in_db(db)

    # When another change is sent with If-Match "1"
    response = api.request(
        "PATCH",
        f"/users/{user.id}",
        token=token,
        json={"fullName": "Lost Update"},
        headers={"If-Match": '"1"'},
    )

    # Then it is a 412 problem and the record keeps the first change, at version 2
    problem_of(response, 412, f"/users/{user.id}")
    assert users_in_db(db) == before
    stored = db.users.find_one({"_id": ObjectId(user.id)})
    assert stored is not None
    assert (stored["fullName"], stored["version"]) == ("First Change", 2)


@pytest.mark.parametrize(
    "change", [{"role": "ADMIN"}, {"isActive": False}], ids=["role", "isActive"]
)
def test_a_user_may_not_change_their_own_admin_only_fields(
    api: UsersApi, db: Db, change: dict[str, Any]
) -> None:
    # Given a logged-in USER
    user, token = logged_in(api, db)
    before = users_in_db(db)

    # When they try to promote or deactivate themselves
    response = api.request("PATCH", f"/users/{user.id}", token=token, json=change)

    # Then it is a 403 naming the field, and nothing changed
    problem = problem_of(response, 403, f"/users/{user.id}")
    assert next(iter(change)) in problem["detail"]
    assert users_in_db(db) == before


def test_a_user_may_change_their_own_name(api: UsersApi, db: Db) -> None:
    # The contrast to the 403 above: a field the caller may change goes through
    user, token = logged_in(api, db)

    response = api.request("PATCH", f"/users/{user.id}", token=token, json={"fullName": "New"})

    assert response.status == 200
    assert response.headers["etag"] == '"2"'
    assert response.json()["fullName"] == "New"


def test_an_unknown_field_in_a_patch_is_422_and_changes_nothing(api: UsersApi, db: Db) -> None:
    user, token = logged_in(api, db)
    before = users_in_db(db)

    response = api.request("PATCH", f"/users/{user.id}", token=token, json={"version": 99})

    problem = problem_of(response, 422, f"/users/{user.id}")
    assert any("version" in error["loc"] for error in problem["errors"])
    assert users_in_db(db) == before


def test_changing_email_to_a_taken_one_is_409_and_changes_nothing(api: UsersApi, db: Db) -> None:
    # Given two users
    make_user(db, email="taken@example.com")
    user, token = logged_in(api, db)
    before = users_in_db(db)

    # When the second changes their email to the first one's
    response = api.request(
        "PATCH", f"/users/{user.id}", token=token, json={"email": "taken@example.com"}
    )

    # Then it is a 409 naming the email, and both records are unchanged
    problem = problem_of(response, 409, f"/users/{user.id}")
    assert "email" in problem["detail"]
    assert users_in_db(db) == before


def test_an_admin_changing_a_role_ends_that_users_sessions(api: UsersApi, db: Db) -> None:
    # Given a logged-in USER, and an ADMIN
    user, user_token = logged_in(api, db)
    _, admin_token = logged_in(api, db, Role.ADMIN)

    # When the ADMIN makes the USER a MANAGER
    response = api.request(
        "PATCH", f"/users/{user.id}", token=admin_token, json={"role": "MANAGER"}
    )

    # Then the change is stored, and the user's old token (role USER) no longer works
    assert response.status == 200, response.body
    assert response.json()["role"] == "MANAGER"
    problem_of(api.request("GET", "/users/me", token=user_token), 401, "/users/me")


# -- the last ADMIN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [("PATCH", {"role": "MANAGER"}), ("PATCH", {"isActive": False}), ("DELETE", None)],
    ids=["demote", "deactivate", "delete"],
)
def test_the_last_active_admin_cannot_be_removed(
    api: UsersApi, db: Db, method: str, body: dict[str, Any] | None
) -> None:
    # Given the only active ADMIN (another ADMIN exists but is inactive)
    make_user(db, role=Role.ADMIN, is_active=False)
    admin, token = logged_in(api, db, Role.ADMIN)
    before = users_in_db(db)

    # When they demote, deactivate or delete themselves
    response = api.request(method, f"/users/{admin.id}", token=token, json=body)

    # Then it is a 409, nothing changed, and they are still logged in
    problem_of(response, 409, f"/users/{admin.id}")
    assert users_in_db(db) == before
    assert api.request("GET", "/users/me", token=token).status == 200


def test_an_admin_can_be_demoted_while_another_remains(api: UsersApi, db: Db) -> None:
    # Given two active ADMINs
    other = make_user(db, role=Role.ADMIN)
    _, token = logged_in(api, db, Role.ADMIN)

    # When one demotes the other
    response = api.request("PATCH", f"/users/{other.id}", token=token, json={"role": "USER"})

    # Then it works
    assert response.status == 200, response.body
    assert response.json()["role"] == "USER"


# -- deleting and restoring --------------------------------------------------------------------


def test_deleting_a_user_deactivates_them_and_ends_their_sessions(
    api: UsersApi, db: Db, redis_client: redis.Redis
) -> None:
    # Given a USER logged in on two devices, and an ADMIN
    user = make_user(db)
    laptop = api.token_for(user.email, DEFAULT_PASSWORD)
    phone = api.token_for(user.email, DEFAULT_PASSWORD)
    _, admin_token = logged_in(api, db, Role.ADMIN)

    # When the ADMIN deletes the user
    response = api.request("DELETE", f"/users/{user.id}", token=admin_token)

    # Then it is a 204; the record is kept, inactive, one version on
    assert response.status == 204
    stored = db.users.find_one({"_id": ObjectId(user.id)})
    assert stored is not None
    assert (stored["isActive"], stored["version"]) == (False, 2)
    # and both of the user's tokens are refused, their sessions gone from Redis
    for token in (laptop, phone):
        problem_of(api.request("GET", "/users/me", token=token), 401, "/users/me")
        assert redis_client.exists(f"session:{claims_of(token)['sid']}") == 0
    # and they cannot log in again
    login = api.request(
        "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    problem_of(login, 401, "/auth/login")


def test_a_user_deleting_themselves_is_logged_out(api: UsersApi, db: Db) -> None:
    user, token = logged_in(api, db)

    response = api.request("DELETE", f"/users/{user.id}", token=token)

    assert response.status == 204
    problem_of(api.request("GET", "/users/me", token=token), 401, "/users/me")


def test_an_admin_restores_a_deleted_user(api: UsersApi, db: Db) -> None:
    # Given a user an ADMIN deleted
    user = make_user(db)
    _, token = logged_in(api, db, Role.ADMIN)
    assert api.request("DELETE", f"/users/{user.id}", token=token).status == 204

    # When the ADMIN restores them
    response = api.request("POST", f"/users/{user.id}/restore", token=token)

    # Then they are active again at version 3, and can log in
    assert response.status == 200, response.body
    assert response.headers["etag"] == '"3"'
    assert response.json()["isActive"] is True
    stored = db.users.find_one({"_id": ObjectId(user.id)})
    assert stored is not None
    assert (stored["isActive"], stored["version"]) == (True, 3)
    assert api.login(user.email, DEFAULT_PASSWORD)["token_type"] == "bearer"


def test_only_an_admin_may_restore(api: UsersApi, db: Db) -> None:
    # Given a deleted user, and a logged-in MANAGER
    user = make_user(db, is_active=False)
    _, token = logged_in(api, db, Role.MANAGER)
    before = users_in_db(db)

    # When the MANAGER tries to restore them
    response = api.request("POST", f"/users/{user.id}/restore", token=token)

    # Then it is a 403 and the user stays deleted
    problem_of(response, 403, f"/users/{user.id}/restore")
    assert users_in_db(db) == before


# -- request ids -------------------------------------------------------------------------------


def test_a_sent_request_id_is_echoed_in_the_header_and_the_problem(api: UsersApi, db: Db) -> None:
    # Given a logged-in ADMIN
    _, token = logged_in(api, db, Role.ADMIN)

    # When a request that fails carries an X-Request-Id
    response = api.request(
        "GET", "/users/abc", token=token, headers={"X-Request-Id": "client-req-42"}
    )

    # Then the same id comes back in the header and in the problem body
    assert response.headers["x-request-id"] == "client-req-42"
    assert problem_of(response, 404, "/users/abc")["requestId"] == "client-req-42"


def test_a_request_id_is_echoed_on_success_too(api: UsersApi, db: Db) -> None:
    _, token = logged_in(api, db)

    response = api.request("GET", "/users/me", token=token, headers={"X-Request-Id": "ok-1"})

    assert response.status == 200
    assert response.headers["x-request-id"] == "ok-1"


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 200, "<script>"])
def test_without_a_usable_request_id_one_is_generated(api: UsersApi, sent: str | None) -> None:
    # When a request arrives without an X-Request-Id, or with one unsafe to log
    headers = {} if sent is None else {"X-Request-Id": sent}
    response = api.request("GET", "/users/me", headers=headers)

    # Then a fresh UUID is used, the same in the header and the problem body
    problem = problem_of(response, 401, "/users/me")
    assert UUID.match(response.headers["x-request-id"])
    assert problem["requestId"] == response.headers["x-request-id"]


def test_a_413_carries_the_request_id_as_well(api: UsersApi, db: Db) -> None:
    _, token = logged_in(api, db, Role.ADMIN)
    body = json.dumps(new_user(fullName="x" * 70 * 1024)).encode()

    response = api.request(
        "POST", "/users", token=token, body=body, headers={"X-Request-Id": "big-1"}
    )

    assert response.headers["x-request-id"] == "big-1"
    assert problem_of(response, 413, "/users")["requestId"] == "big-1"


# -- the verifying keys (issue 19) ---------------------------------------------------------------


def test_the_jwks_is_public_cacheable_and_verifies_the_tokens_a_login_gives(
    api: UsersApi, db: Db
) -> None:
    # Given a login's tokens
    user = make_user(db)
    tokens = api.login(user.email, DEFAULT_PASSWORD)

    # When another service fetches the key set, with no credential
    response = api.request("GET", "/.well-known/jwks.json")

    # Then it is public and cacheable, and its key verifies the token (ES256, by kid)
    assert response.status == 200, response.body
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = {jwk["kid"]: jwk for jwk in response.json()["keys"]}
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "ES256"
    jwk = keys[header["kid"]]
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}  # no private part
    public = jwt.PyJWK.from_dict(jwk).key
    security = get_settings().security
    claims = jwt.decode(
        tokens["access_token"],
        public,
        algorithms=["ES256"],
        audience=security.jwt_audience,
        issuer=security.jwt_issuer,
    )
    assert claims["sub"] == user.id
