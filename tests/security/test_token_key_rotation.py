"""Rotating the token key logs nobody out; removing a key ends its tokens (issue 19, SPEC §4).

The steps of docs/deploy.md, each a deployment: here, a gateway started with that step's
settings, over the same MongoDB, Redis and KMS (moto). Before: the suite's key (alias/todo-tokens)
signs. During: a new key signs and the old one still verifies. After: the old key is removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import jwt
import pytest
from pymongo.database import Database

from devtools.lambda_local import bearer
from tests.e2e.support import assert_problem
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.gateway import serve_gateway
from tests.security.test_api2_authentication import PROTECTED_ROUTES
from todo_common.clients import get_database
from todo_common.principal import Role
from todo_common.security.keys import kid_of
from todo_common.settings import get_settings


def _kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


@pytest.fixture(scope="module")
def new_key() -> str:
    """The key a rotation brings in, created as the template's other slot would be."""
    created = boto3.client("kms").create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="the next token key (tests)"
    )
    return str(created["KeyMetadata"]["Arn"])


@pytest.fixture(scope="module")
def old_key() -> str:
    return str(get_settings().security.jwt_signing_key_id)


@pytest.fixture(scope="module")
def during_rotation(
    tmp_path_factory: pytest.TempPathFactory, new_key: str, old_key: str
) -> Iterator[str]:
    env = {"SECURITY_JWT_SIGNING_KEY_ID": new_key, "SECURITY_JWT_VERIFY_KEY_IDS": old_key}
    with serve_gateway(tmp_path_factory, env) as url:
        yield url


@pytest.fixture(scope="module")
def after_rotation(tmp_path_factory: pytest.TempPathFactory, new_key: str) -> Iterator[str]:
    env = {"SECURITY_JWT_SIGNING_KEY_ID": new_key, "SECURITY_JWT_VERIFY_KEY_IDS": ""}
    with serve_gateway(tmp_path_factory, env) as url:
        yield url


def _login(url: str, email: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=15) as client:
        response = client.post("/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_rotation_keeps_every_session_and_removing_the_old_key_ends_its_tokens(
    api: httpx.Client,
    db: Database[dict[str, Any]],
    gateway_url: str,
    during_rotation: str,
    after_rotation: str,
    new_key: str,
) -> None:
    # Given a session opened before the rotation, its tokens signed by the old key
    user = make_user(db, role=Role.MANAGER)
    before = _login(gateway_url, user.email)
    old_kid = _kid(before["access_token"])
    new_kid = kid_of(new_key)
    assert old_kid != new_kid

    with httpx.Client(base_url=during_rotation, timeout=15) as during:
        # When the new key signs and the old one still verifies, then the session goes on
        me = during.get("/users/me", headers=bearer(before["access_token"]))
        assert me.status_code == 200, me.text
        jwks = during.get("/.well-known/jwks.json").json()
        assert [key["kid"] for key in jwks["keys"]] == [new_kid, old_kid]
        # and its refresh gives tokens of the new key
        refreshed = during.post("/auth/refresh", json={"refresh_token": before["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        after = refreshed.json()
        assert _kid(after["access_token"]) == _kid(after["refresh_token"]) == new_kid
        assert during.get("/users/me", headers=bearer(after["access_token"])).status_code == 200
        # and a second session, opened now, is of the new key too
        fresh = _login(during_rotation, user.email)
        assert _kid(fresh["access_token"]) == new_kid

    with httpx.Client(base_url=after_rotation, timeout=15) as removed:
        # When the old key is removed, then its token is refused, the new ones are not
        assert_problem(removed.get("/users/me", headers=bearer(before["access_token"])), 401)
        assert removed.get("/users/me", headers=bearer(after["access_token"])).status_code == 200
        jwks = removed.get("/.well-known/jwks.json").json()
        assert [key["kid"] for key in jwks["keys"]] == [new_kid]


@pytest.fixture(scope="module")
def old_key_token(gateway_url: str) -> str:
    """An ADMIN's live session's access token, signed by the old key (module-wide)."""
    user = make_user(get_database(), role=Role.ADMIN)
    return str(_login(gateway_url, user.email)["access_token"])


@pytest.mark.parametrize("route_key", PROTECTED_ROUTES)
def test_a_token_of_a_removed_key_gets_the_one_401_on_every_protected_route(
    after_rotation: str, old_key_token: str, route_key: str
) -> None:
    # Given a live session's token signed by a key the API no longer lists
    method, path = route_key.split(" ", 1)
    url = re.sub(r"\{[^/]+\}", "0123456789abcdef01234567", path)
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None

    # When it is presented to a protected route
    with httpx.Client(base_url=after_rotation, timeout=15) as client:
        response = client.request(method, url, json=body, headers=bearer(old_key_token))

    # Then it is the 401 problem+json with WWW-Authenticate: Bearer
    assert_problem(response, 401)
