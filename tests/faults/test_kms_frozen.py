"""KMS stops answering (moto, which serves KMS here, is stopped): a login is a quick 503.

Issue 19: login and refresh sign their tokens with KMS on the request's path, so a KMS that does
not answer is a `503` problem+json with `Retry-After` within the dependency budget, never a 500
and never an unsigned token. Checking a token needs no KMS at all: the public keys were read
once, so the API's other requests go on. Once KMS answers again, logins succeed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_project
from tests.faults.conftest import LocalServer
from tests.faults.test_database_and_redis_frozen import (
    assert_quick_unavailable,
    assert_recovers,
    timed,
)
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e


def test_a_frozen_kms_makes_login_and_refresh_a_quick_503_and_they_work_once_it_is_back(
    db: Database[dict[str, Any]],
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
    login: Callable[[str, str], dict[str, Any]],
    api: httpx.Client,
    sqs_server: LocalServer,
) -> None:
    # Given a warm API (the public keys read, KMS's connection made) and a live session
    manager, headers = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    tokens = login(manager.email, DEFAULT_PASSWORD)
    credentials = {"email": manager.email, "password": DEFAULT_PASSWORD}

    def sign_in() -> httpx.Response:
        return api.post("/auth/login", json=credentials)

    def refresh() -> httpx.Response:
        return api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    # When KMS stops answering
    with sqs_server.frozen():
        # Then a login and a refresh each get a quick 503 naming KMS, and no token
        for name, send in {"login": sign_in, "refresh": refresh}.items():
            response, took = timed(send)
            assert_quick_unavailable(response, took, "KMS", name)
            assert "access_token" not in response.text
        # And a request with a token needs no KMS: it is answered as usual
        read, took = timed(lambda: api.get(f"/projects/{project.id}", headers=headers))
        assert read.status_code == 200, read.text
        resumed_at = time.monotonic()

    # When KMS answers again, then logging in works within seconds, and the refresh token that
    # the failed refresh did not spend still works
    assert_recovers({"login": sign_in, "refresh": refresh}, resumed_at)
