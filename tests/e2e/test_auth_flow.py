"""SPEC §4 over HTTP: login, tokens, refresh rotation and reuse, logout, throttling, and the
gateway's and the functions' answers to missing, forged and expired tokens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.conftest import bearer
from tests.e2e.support import (
    assert_problem,
    expired_access_token,
    resigned,
    unsigned_token,
    unverified_claims,
)
from tests.factories import DEFAULT_PASSWORD, make_user
from todo_common.principal import Role
from todo_common.records import User
from todo_common.settings import get_settings

pytestmark = pytest.mark.e2e

TOKEN_KEYS = {"access_token", "refresh_token", "token_type", "expires_in"}
Login = Callable[..., dict[str, Any]]
UserWithToken = Callable[..., tuple[User, dict[str, str]]]


def _json_login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/auth/login", json={"email": email, "password": password})


def _form_login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/auth/token", data={"username": email, "password": password})


LOGIN_ENDPOINTS = {"json /auth/login": _json_login, "form /auth/token": _form_login}


def _assert_token_pair(response: httpx.Response, user: User) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.keys() == TOKEN_KEYS
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().security.access_token_expire_minutes * 60
    access, refresh = (
        unverified_claims(body["access_token"]),
        unverified_claims(body["refresh_token"]),
    )
    assert (access["typ"], refresh["typ"]) == ("access", "refresh")
    assert access["sub"] == refresh["sub"] == user.id
    assert access["sid"] == refresh["sid"]
    assert access["role"] == user.role.value
    return body


# -- logging in ------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", LOGIN_ENDPOINTS.values(), ids=LOGIN_ENDPOINTS.keys())
def test_given_active_user_when_logging_in_then_a_bearer_pair_that_opens_users_me(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    endpoint: Callable[[httpx.Client, str, str], httpx.Response],
) -> None:
    user = make_user(db, role=Role.MANAGER)

    response = endpoint(client, user.email.upper(), DEFAULT_PASSWORD)

    tokens = _assert_token_pair(response, user)
    me = client.get("/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id


@pytest.mark.parametrize("endpoint", LOGIN_ENDPOINTS.values(), ids=LOGIN_ENDPOINTS.keys())
def test_given_bad_credentials_of_three_kinds_when_logging_in_then_one_identical_401(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    endpoint: Callable[[httpx.Client, str, str], httpx.Response],
) -> None:
    """Wrong password, unknown email and inactive user cannot be told apart (SPEC §4)."""
    active = make_user(db)
    inactive = make_user(db, is_active=False)

    responses = {
        "wrong password": endpoint(client, active.email, "not-the-password"),
        "unknown email": endpoint(client, "nobody@example.com", DEFAULT_PASSWORD),
        "inactive user": endpoint(client, inactive.email, DEFAULT_PASSWORD),
    }

    bodies = {}
    for kind, response in responses.items():
        body = assert_problem(response, 401)
        bodies[kind] = {k: v for k, v in body.items() if k not in ("requestId", "instance")}
        assert "access_token" not in response.text
    assert bodies["wrong password"] == bodies["unknown email"] == bodies["inactive user"]
    challenges = {r.headers["www-authenticate"] for r in responses.values()}
    assert len(challenges) == 1


# -- /users/me -------------------------------------------------------------------------------


def test_given_logged_in_user_when_reading_users_me_then_own_record_with_etag(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    user, headers = user_with_token(Role.USER, full_name="Ada Lovelace")

    response = client.get("/users/me", headers=headers)

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{user.version}"'
    body = response.json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert body["fullName"] == "Ada Lovelace"
    assert body["role"] == "USER"
    assert body["isActive"] is True
    assert body["version"] == user.version
    assert not {"passwordHash", "password", "usernameKey"} & body.keys()


# -- refresh ---------------------------------------------------------------------------------


def test_given_refresh_token_when_refreshing_then_a_new_pair_and_the_old_one_rotated_out(
    client: httpx.Client, db: Database[dict[str, Any]], login: Login
) -> None:
    user = make_user(db)
    first = login(user.email)

    response = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})

    second = _assert_token_pair(response, user)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        unverified_claims(second["access_token"])["sid"]
        == unverified_claims(first["access_token"])["sid"]
    )
    assert client.get("/users/me", headers=bearer(second["access_token"])).status_code == 200


def test_given_a_used_refresh_token_when_presented_again_then_401_and_the_session_is_revoked(
    client: httpx.Client, db: Database[dict[str, Any]], login: Login
) -> None:
    user = make_user(db)
    first = login(user.email)
    rotated = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()

    reuse = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert_problem(reuse, 401)
    # Reuse means theft: every token of that session is dead, the new ones included.
    assert_problem(client.get("/users/me", headers=bearer(second["access_token"])), 401)
    assert_problem(
        client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401
    )


def test_given_an_access_token_when_used_to_refresh_then_401(
    client: httpx.Client, db: Database[dict[str, Any]], login: Login
) -> None:
    tokens = login(make_user(db).email)

    response = client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})

    assert_problem(response, 401)


def test_given_a_refresh_token_when_used_as_bearer_then_it_is_401(
    client: httpx.Client, db: Database[dict[str, Any]], login: Login
) -> None:
    tokens = login(make_user(db).email)

    response = client.get("/users/me", headers=bearer(tokens["refresh_token"]))

    assert_problem(response, 401)


BAD_REFRESH_TOKENS: dict[str, Callable[[str], str]] = {
    "garbage": lambda token: "not-a-jwt",
    "another key": lambda token: resigned(token, key="an-attacker-key-long-enough-for-hs256!"),
    "alg none": unsigned_token,
    "expired": lambda token: resigned(token, issued=timedelta(days=8), lifetime=timedelta(days=7)),
}


@pytest.mark.parametrize("spoil", BAD_REFRESH_TOKENS.values(), ids=BAD_REFRESH_TOKENS.keys())
def test_given_a_bad_refresh_token_when_refreshing_then_401_and_the_session_lives_on(
    client: httpx.Client, db: Database[dict[str, Any]], login: Login, spoil: Callable[[str], str]
) -> None:
    tokens = login(make_user(db).email)
    bad = spoil(tokens["refresh_token"])

    response = client.post("/auth/refresh", json={"refresh_token": bad})

    assert_problem(response, 401)
    assert "access_token" not in response.text
    # A forgery must not be able to end someone's session either.
    good = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert good.status_code == 200, good.text


# -- logout ----------------------------------------------------------------------------------


def test_given_a_session_when_logging_out_then_204_and_its_tokens_stop_working_at_once(
    client: httpx.Client, db: Database[dict[str, Any]], login: Login
) -> None:
    user = make_user(db)
    tokens = login(user.email)
    other_session = login(user.email)
    headers = bearer(tokens["access_token"])
    assert client.get("/users/me", headers=headers).status_code == 200  # warms the edge cache

    response = client.post("/auth/logout", headers=headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(client.get("/users/me", headers=headers), 401)
    assert_problem(client.post("/auth/logout", headers=headers), 401)
    assert_problem(
        client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401
    )
    # Only that session ends: the user's other login still works.
    still = client.get("/users/me", headers=bearer(other_session["access_token"]))
    assert still.status_code == 200, still.text


# -- throttling ------------------------------------------------------------------------------


def test_given_five_failed_logins_when_trying_a_sixth_time_then_429_with_retry_after(
    client: httpx.Client, db: Database[dict[str, Any]]
) -> None:
    user = make_user(db)
    # The email's case does not open a fresh count.
    for email in (user.email, user.email.upper(), user.email, user.email.title(), user.email):
        assert_problem(_json_login(client, email, "wrong-password"), 401)

    sixth = _json_login(client, user.email, DEFAULT_PASSWORD)

    assert_problem(sixth, 429)
    window = get_settings().security.login_window_seconds
    assert 1 <= int(sixth.headers["retry-after"]) <= window
    # The lock is per email, not per endpoint, and does not lock other accounts out.
    assert_problem(_form_login(client, user.email, DEFAULT_PASSWORD), 429)
    other = make_user(db)
    assert _json_login(client, other.email, DEFAULT_PASSWORD).status_code == 200


def test_given_four_failures_when_a_login_succeeds_then_the_count_starts_again(
    client: httpx.Client, db: Database[dict[str, Any]]
) -> None:
    user = make_user(db)
    for _ in range(4):
        assert_problem(_json_login(client, user.email, "wrong-password"), 401)

    assert _json_login(client, user.email, DEFAULT_PASSWORD).status_code == 200

    for _ in range(5):
        assert_problem(_json_login(client, user.email, "wrong-password"), 401)
    assert_problem(_json_login(client, user.email, DEFAULT_PASSWORD), 429)


# -- missing, forged and expired tokens ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users/me"), ("GET", "/users"), ("POST", "/users"), ("POST", "/auth/logout")],
)
def test_given_no_token_when_calling_a_protected_route_then_it_is_401_with_www_authenticate(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)

    assert_problem(response, 401)


FORGERIES: dict[str, Callable[[str], str]] = {
    "another key": lambda token: resigned(token, key="an-attacker-key-long-enough-for-hs256!"),
    "alg none": unsigned_token,
    "wrong alg": lambda token: resigned(token, algorithm="HS512"),
    "missing sid": lambda token: resigned(token, drop=("sid",)),
    "missing exp": lambda token: resigned(token, drop=("exp",)),
    "tampered role": lambda token: _tamper_payload(token, role="ADMIN"),
    "garbage": lambda token: "not-a-jwt",
}


def _tamper_payload(token: str, **changes: str) -> str:
    """The token with its payload edited and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=")
    return f"{header}.{edited.decode()}.{signature}"


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_given_a_forged_token_when_calling_a_protected_route_then_the_gateway_answers_403(
    client: httpx.Client, user_with_token: UserWithToken, forge: Callable[[str], str]
) -> None:
    _, headers = user_with_token(Role.USER)
    genuine = headers["Authorization"].removeprefix("Bearer ")

    response = client.get("/users", headers=bearer(forge(genuine)))

    assert_problem(response, 401)


def test_given_an_expired_genuine_token_when_calling_then_the_function_answers_401_to_refresh(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    """The edge lets an expired token through on purpose, so the client learns to refresh."""
    _, headers = user_with_token(Role.ADMIN)
    expired = expired_access_token(headers["Authorization"].removeprefix("Bearer "))

    response = client.get("/users/me", headers=bearer(expired))

    body = assert_problem(response, 401)
    assert "expired" in body["detail"].lower()
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_given_a_token_within_leeway_of_expiry_when_calling_then_it_is_still_accepted(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    """Control for the test above: only a token past its expiry (and the leeway) is refused."""
    _, headers = user_with_token(Role.USER)
    barely = resigned(
        headers["Authorization"].removeprefix("Bearer "),
        issued=timedelta(minutes=15),
        lifetime=timedelta(minutes=15, seconds=-2),
    )

    response = client.get("/users/me", headers=bearer(barely))

    assert response.status_code == 200, response.text
