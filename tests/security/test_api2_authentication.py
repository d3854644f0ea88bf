"""API2:2023 Broken Authentication: forged, edited, expired, misused and stolen tokens (SPEC §4).

Whatever is wrong with a token (forged, edited, expired, of the wrong type, revoked), the
answer is the function's 401 problem with `WWW-Authenticate: Bearer`: there is no edge
authorizer with a different answer. Nothing a refused token asks for happens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import redis
from bson import ObjectId
from pymongo.database import Database

from devtools.lambda_local import bearer
from devtools.template import load_template
from tests.e2e.support import (
    ATTACKER_EC_KEY,
    api_kid,
    assert_problem,
    attacker_jwk,
    expired_access_token,
    key_outside_the_allow_list,
    resigned,
    resigned_by_kms,
    unsigned_token,
    users_state,
)
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.gateway import ROOT
from tests.security.conftest import Cast
from todo_common.clients import get_database
from todo_common.principal import Role
from todo_common.records import User
from todo_common.schemas.users import UserCreate
from todo_common.security.passwords import hash_password
from todo_common.settings import get_settings

ATTACKER_KEY = "an-attacker-key-that-is-long-enough-for-hs256"


def _edited(token: str, **claims: str) -> str:
    """`token` with claims edited in its payload and the original signature kept."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=")
    return f"{header}.{edited.decode()}.{signature}"


def _token(actor_headers: dict[str, str]) -> str:
    return actor_headers["Authorization"].removeprefix("Bearer ")


FORGERIES: dict[str, Callable[[str, Cast], str]] = {
    "alg-none": lambda token, cast: unsigned_token(token),
    "attackers-key": lambda token, cast: resigned(token, key=ATTACKER_KEY),
    "attackers-ec-key": lambda token, cast: resigned(
        token, key=ATTACKER_EC_KEY, headers={"kid": api_kid()}
    ),
    "hs256-with-the-public-key": lambda token, cast: resigned(token, algorithm="HS256"),
    "role-edited-to-admin": lambda token, cast: _edited(token, role="ADMIN"),
    "sub-edited-to-the-admin": lambda token, cast: _edited(token, sub=cast.admin.id),
    "sid-dropped": lambda token, cast: resigned(token, drop=("sid",)),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_user_with_a_forged_or_edited_token_is_refused_at_the_edge_and_nothing_changes(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    cast: Cast,
    forge: Callable[[str, Cast], str],
) -> None:
    forged = bearer(forge(_token(cast.user.headers), cast))
    before = users_state(db)

    assert_problem(client.get("/users", headers=forged), 401)
    promote = client.patch(f"/users/{cast.user.id}", json={"role": "ADMIN"}, headers=forged)
    assert_problem(promote, 401)
    assert users_state(db) == before


def test_user_with_an_expired_genuine_token_gets_401_with_a_bearer_challenge(
    client: httpx.Client, cast: Cast
) -> None:
    expired = bearer(expired_access_token(_token(cast.user.headers)))

    body = assert_problem(client.get("/users/me", headers=expired), 401)
    assert "expired" in body["detail"].lower()


def test_user_presenting_a_refresh_token_as_access_token_is_refused(
    client: httpx.Client, login: Callable[[str], dict[str, Any]], cast: Cast
) -> None:
    tokens = login(cast.user.user.email)

    assert_problem(client.get("/users/me", headers=bearer(tokens["refresh_token"])), 401)


def test_user_presenting_an_access_token_to_refresh_gets_401_and_no_new_tokens(
    client: httpx.Client, login: Callable[[str], dict[str, Any]], cast: Cast
) -> None:
    tokens = login(cast.user.user.email)

    response = client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})

    assert_problem(response, 401)
    assert "access_token" not in response.text


@pytest.mark.parametrize(
    "spoil",
    [
        unsigned_token,
        lambda token: resigned(token, key=ATTACKER_KEY),
        lambda token: resigned(token, issued=timedelta(days=8), lifetime=timedelta(days=7)),
    ],
    ids=["alg-none", "attackers-key", "expired"],
)
def test_attacker_refreshing_with_a_forged_refresh_token_gets_401_and_cannot_end_the_session(
    client: httpx.Client,
    login: Callable[[str], dict[str, Any]],
    cast: Cast,
    spoil: Callable[[str], str],
) -> None:
    tokens = login(cast.victim.user.email)

    forged = client.post("/auth/refresh", json={"refresh_token": spoil(tokens["refresh_token"])})

    assert_problem(forged, 401)
    genuine = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert genuine.status_code == 200, genuine.text


def test_thief_replaying_a_used_refresh_token_gets_401_and_the_whole_session_is_revoked(
    client: httpx.Client, login: Callable[[str], dict[str, Any]], cast: Cast
) -> None:
    stolen = login(cast.victim.user.email)
    rotated = client.post("/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    current = rotated.json()

    replay = client.post("/auth/refresh", json={"refresh_token": stolen["refresh_token"]})

    assert_problem(replay, 401)
    assert_problem(client.get("/users/me", headers=bearer(current["access_token"])), 401)
    refresh = client.post("/auth/refresh", json={"refresh_token": current["refresh_token"]})
    assert_problem(refresh, 401)


def test_token_of_a_logged_out_session_gets_401_at_once(
    client: httpx.Client, login: Callable[[str], dict[str, Any]], cast: Cast
) -> None:
    tokens = login(cast.user.user.email)
    headers = bearer(tokens["access_token"])
    assert client.get("/users/me", headers=headers).status_code == 200  # cached at the edge

    assert client.post("/auth/logout", headers=headers).status_code == 204

    assert_problem(client.get("/users/me", headers=headers), 401)
    refresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refresh, 401)


def test_token_of_a_deactivated_user_gets_401_at_once(client: httpx.Client, cast: Cast) -> None:
    assert client.get("/users/me", headers=cast.victim.headers).status_code == 200

    deleted = client.delete(f"/users/{cast.victim.id}", headers=cast.admin.headers)
    assert deleted.status_code == 204, deleted.text

    assert_problem(client.get("/users/me", headers=cast.victim.headers), 401)


def test_token_issued_before_a_demotion_no_longer_carries_the_old_role(
    client: httpx.Client, cast: Cast
) -> None:
    demoted = client.patch(
        f"/users/{cast.manager.id}", json={"role": "USER"}, headers=cast.admin.headers
    )
    assert demoted.status_code == 200, demoted.text

    created = client.post(
        "/projects", json={"name": "Still a manager?"}, headers=cast.manager.headers
    )

    assert_problem(created, 401)


# --- found by the outside attack (issue 8) ----------------------------------------

Login = Callable[[str, str], dict[str, Any]]
MakeUser = Callable[..., tuple[User, dict[str, str]]]
Db = Database[dict[str, Any]]
WRONG = "not-the-password-1"


# --- 1. the login throttle holds under parallel guesses -------------------------------------


def test_twenty_parallel_wrong_passwords_check_at_most_five_and_lock_the_right_one_out(
    api: httpx.Client, db: Db, gateway_url: str
) -> None:
    # Given an account whose password hash has the production cost, so each check takes as
    # long as in AWS (~250 ms) and parallel guesses overlap as they would there
    user = make_user(db)
    db.users.update_one(
        {"_id": ObjectId(user.id)}, {"$set": {"passwordHash": hash_password(DEFAULT_PASSWORD, 12)}}
    )

    # When an attacker sends 20 wrong passwords for it at once
    def guess(_: int) -> httpx.Response:
        with httpx.Client(base_url=gateway_url, timeout=15) as own:
            return own.post("/auth/login", json={"email": user.email, "password": WRONG})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(guess, range(20)))

    # Then at most five reached the password check; the rest were refused with Retry-After
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) <= get_settings().security.login_max_failures, statuses
    assert set(statuses) <= {401, 429}, statuses
    for refused in (r for r in responses if r.status_code == 429):
        assert_problem(refused, 429)

    # And the right password is refused too until the window ends
    right = api.post("/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(right, 429)


# --- 2. a wrong currentPassword spends the same budget ---------------------------------------


def test_guessing_current_password_with_a_stolen_token_is_throttled_like_a_login(
    api: httpx.Client, user_with_token: MakeUser
) -> None:
    # Given a USER's access token in an attacker's hands
    user, headers = user_with_token(Role.USER)
    change = {"password": "a-brand-new-password", "currentPassword": WRONG}

    # When the attacker guesses currentPassword five times
    for _ in range(get_settings().security.login_max_failures):
        assert_problem(api.patch(f"/users/{user.id}", json=change, headers=headers), 403)

    # Then the sixth guess, even the right one, is 429, and so is a login from that address
    right = {**change, "currentPassword": DEFAULT_PASSWORD}
    assert_problem(api.patch(f"/users/{user.id}", json=right, headers=headers), 429)
    login = api.post("/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(login, 429)


# --- 6. no unkeyed hash of a create body is kept in Redis --------------------------------------


def test_the_idempotency_record_of_a_user_create_holds_no_unkeyed_hash_of_the_password(
    api: httpx.Client, redis_client: redis.Redis, user_with_token: MakeUser
) -> None:
    # Given an ADMIN creating a user with an Idempotency-Key
    _, admin = user_with_token(Role.ADMIN)
    body = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "fullName": "New Comer",
        "password": "correct-horse-battery",
        "role": "USER",
    }
    headers = {**admin, "Idempotency-Key": "create-newcomer"}
    assert api.post("/users", json=body, headers=headers).status_code == 201

    # Then no value in Redis carries the password, or an MD5/SHA of it or of the body
    validated = UserCreate.model_validate(body)
    candidates: list[bytes] = [b"correct-horse-battery"]
    for shape in (body, validated.model_dump(mode="json"), validated.model_dump(by_alias=True)):
        for separators in ((",", ":"), (", ", ": ")):
            candidates.append(json.dumps(shape, sort_keys=True, separators=separators).encode())
    digests = {
        getattr(hashlib, name)(candidate).hexdigest()
        for candidate in candidates
        for name in ("md5", "sha1", "sha256")
    }
    stored = " ".join(
        str(redis_client.get(key))
        for key in redis_client.scan_iter()
        if redis_client.type(key) == "string"
    )
    assert "correct-horse-battery" not in stored
    assert not [digest for digest in digests if digest in stored]

    # And the key still does its job: a retry replays, another body is refused
    replay = api.post("/users", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    other = api.post("/users", json={**body, "password": "another-password-1"}, headers=headers)
    assert_problem(other, 422)


# --- 8. the local gateway is as strict as API Gateway -----------------------------------------


def test_x_forwarded_for_does_not_give_a_throttled_client_a_new_address(
    api: httpx.Client, db: Db
) -> None:
    user = make_user(db)
    for _ in range(get_settings().security.login_max_failures):
        api.post("/auth/login", json={"email": user.email, "password": WRONG})
    spoofed = api.post(
        "/auth/login",
        json={"email": user.email, "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7", "Forwarded": "for=198.51.100.7"},
    )
    assert_problem(spoofed, 429)


# --- every protected route, every kind of bad token: one 401 (issue 9) --------------------------

PUBLIC_ROUTES = frozenset(
    {
        "GET /health",
        "POST /auth/login",
        "POST /auth/token",
        "POST /auth/refresh",
        "GET /openapi.json",
        "GET /docs",
        "GET /docs/oauth2-redirect",
        "GET /redoc",
        "GET /scalar",
        "GET /docs/assets/{name}",
        "GET /.well-known/jwks.json",
    }
)
PROTECTED_ROUTES = sorted(
    route.route_key
    for route in load_template(ROOT / "template.yaml").routes
    if route.route_key not in PUBLIC_ROUTES
)
BAD_TOKENS: dict[str, Callable[[dict[str, str]], str | None]] = {
    "no-token": lambda tokens: None,
    "malformed": lambda tokens: "not-a-jwt",
    "forged-signature": lambda tokens: resigned(tokens["access_token"], key=ATTACKER_KEY),
    "alg-none": lambda tokens: unsigned_token(tokens["access_token"]),
    # ES256 and kid (issue 19): the key is taken from the pinned set by kid, and only from there.
    "key-outside-the-allow-list": lambda tokens: resigned_by_kms(
        tokens["access_token"], key_outside_the_allow_list()
    ),
    "unknown-kid": lambda tokens: resigned_by_kms(tokens["access_token"], kid="unknown-kid"),
    "attackers-key-under-the-api-kid": lambda tokens: resigned(
        tokens["access_token"], key=ATTACKER_EC_KEY, headers={"kid": api_kid()}
    ),
    "hs256-with-the-public-key": lambda tokens: resigned(tokens["access_token"], algorithm="HS256"),
    "jku-header": lambda tokens: resigned(
        tokens["access_token"],
        key=ATTACKER_EC_KEY,
        headers={"kid": "attacker", "jku": "https://attacker.example/.well-known/jwks.json"},
    ),
    "jwk-header": lambda tokens: resigned(
        tokens["access_token"],
        key=ATTACKER_EC_KEY,
        headers={"kid": "attacker", "jwk": attacker_jwk()},
    ),
    "expired": lambda tokens: expired_access_token(tokens["access_token"]),
    "refresh-token": lambda tokens: tokens["refresh_token"],
    # Sessions that have ended (below): by a logout; by the user ending it from another session
    # (DELETE /auth/sessions/{id}); by the user ending all others (DELETE /auth/sessions).
    "revoked-session": lambda tokens: tokens["access_token"],
    "ended-session": lambda tokens: tokens["access_token"],
    "ended-with-all-others": lambda tokens: tokens["access_token"],
}
ENDED_SESSIONS = ("revoked-session", "ended-session", "ended-with-all-others")


def test_the_protected_routes_are_every_route_but_the_public_ones() -> None:
    # Guards the enumeration itself: the template's routes are read, not listed by hand.
    assert len(PROTECTED_ROUTES) >= 25
    assert "GET /users/me" in PROTECTED_ROUTES
    assert "GET /audits/verify" in PROTECTED_ROUTES


def _sid(token: str) -> str:
    sid: str = jwt.decode(token, options={"verify_signature": False})["sid"]
    return sid


@pytest.fixture(scope="module")
def sessions(gateway_url: str) -> dict[str, dict[str, str]]:
    """A token pair of a live session, and of sessions ended each way there is (module-wide)."""
    user, other = (make_user(get_database(), role=Role.ADMIN) for _ in range(2))
    with httpx.Client(base_url=gateway_url, timeout=15) as client:

        def login(email: str) -> dict[str, str]:
            answer = client.post("/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
            assert answer.status_code == 200, answer.text
            pair: dict[str, str] = answer.json()
            return pair

        live, logged_out, ended = (login(user.email) for _ in range(3))
        keeper, ended_with_others = (login(other.email) for _ in range(2))
        logout = client.post("/auth/logout", headers=bearer(logged_out["access_token"]))
        assert logout.status_code == 204, logout.text
        end = client.delete(
            f"/auth/sessions/{_sid(ended['access_token'])}", headers=bearer(live["access_token"])
        )
        assert end.status_code == 204, end.text
        end_others = client.delete("/auth/sessions", headers=bearer(keeper["access_token"]))
        assert end_others.status_code == 204, end_others.text
    return {
        "live": live,
        "revoked-session": logged_out,
        "ended-session": ended,
        "ended-with-all-others": ended_with_others,
    }


@pytest.mark.parametrize("kind", ENDED_SESSIONS)
def test_an_ended_sessions_refresh_token_is_401(
    gateway_url: str, sessions: dict[str, dict[str, str]], kind: str
) -> None:
    with httpx.Client(base_url=gateway_url, timeout=15) as client:
        response = client.post(
            "/auth/refresh", json={"refresh_token": sessions[kind]["refresh_token"]}
        )

    assert_problem(response, 401)


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
@pytest.mark.parametrize("route_key", PROTECTED_ROUTES)
def test_an_attacker_with_a_bad_token_gets_the_same_401_on_every_protected_route(
    gateway_url: str, sessions: dict[str, dict[str, str]], route_key: str, kind: str
) -> None:
    # Given a protected route and a token that is missing, malformed, forged, unsigned,
    # expired, of the wrong type, or of a session that has ended
    method, path = route_key.split(" ", 1)
    url = re.sub(r"\{[^/]+\}", "0123456789abcdef01234567", path)
    tokens = sessions[kind if kind in ENDED_SESSIONS else "live"]
    token = BAD_TOKENS[kind](tokens)
    headers = bearer(token) if token is not None else {}
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None

    # When it is called
    with httpx.Client(base_url=gateway_url, timeout=15) as client:
        response = client.request(method, url, json=body, headers=headers)

    # Then the answer is the one 401 problem+json with WWW-Authenticate: Bearer, nothing else
    assert_problem(response, 401)
