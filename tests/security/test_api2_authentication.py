"""API2:2023 Broken Authentication: forged, edited, expired, misused and stolen tokens (SPEC §4).

A forgery stops at the edge (API Gateway's fixed 403); a genuine token that may no longer be
used is the function's 401 problem with `WWW-Authenticate: Bearer`. Nothing a refused token
asks for happens.
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

from tests.e2e.support import (
    assert_gateway_refusal,
    assert_problem,
    expired_access_token,
    resigned,
    unsigned_token,
    users_state,
)
from tests.gateway import bearer
from tests.security.conftest import Cast

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
    "another-algorithm": lambda token, cast: resigned(token, algorithm="HS512"),
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

    assert_gateway_refusal(client.get("/users", headers=forged), 403)
    promote = client.patch(f"/users/{cast.user.id}", json={"role": "ADMIN"}, headers=forged)
    assert_gateway_refusal(promote, 403)
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

    assert_gateway_refusal(client.get("/users/me", headers=bearer(tokens["refresh_token"])), 403)


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
