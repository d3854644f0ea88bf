"""A dependency that is down turns into a 503 with Retry-After, not a hang or a bare 500.

The clients are built from settings once per container, so each case points a fresh Settings at a
port where nothing listens, rebuilds the clients and services, and restores everything after.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import LambdaResponse, UsersApi
from todo_common import container
from todo_common.clients import get_mongo_client, get_redis
from todo_common.records import User
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
CACHED = (get_settings, get_redis, get_mongo_client)


def _closed_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _forget_clients() -> None:
    for factory in CACHED:
        factory.cache_clear()
    container.reset()


@contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Settings, clients and services as a cold start with these variables would build them."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        _forget_clients()
        try:
            yield
        finally:
            if get_mongo_client.cache_info().currsize:
                get_mongo_client().close()
            if get_redis.cache_info().currsize:
                get_redis().close()
            _forget_clients()
    _forget_clients()  # once more, now that the real variables are back


@pytest.fixture
def api(clean: None) -> UsersApi:
    return UsersApi()


@pytest.fixture
def user(db: Db, clean: None) -> User:
    return make_user(db)


def assert_unavailable(response: LambdaResponse, path: str, dependency: str) -> None:
    assert response.status == 503, response.body
    problem = response.problem()
    assert problem["instance"] == path
    assert problem["type"].endswith("/dependency-unavailable")
    assert dependency in problem["detail"]
    assert int(response.headers["retry-after"]) >= 1
    assert problem["requestId"] == response.headers["x-request-id"]


def test_redis_down_makes_an_authenticated_request_503(api: UsersApi, user: User) -> None:
    # Given a user with a valid token
    token = api.token_for(user.email, DEFAULT_PASSWORD)

    # When Redis (where sessions live) cannot be reached
    with environment(REDIS_PORT=str(_closed_port())):
        response = api.request("GET", "/users/me", token=token)

    # Then the request is a 503 problem naming Redis, with Retry-After
    assert_unavailable(response, "/users/me", "Redis")
    # and once Redis is back, the same token works again
    assert api.request("GET", "/users/me", token=token).status == 200


def test_redis_down_makes_login_503_rather_than_401(api: UsersApi, user: User) -> None:
    # When Redis cannot be reached, a login with the right password
    with environment(REDIS_PORT=str(_closed_port())):
        response = api.request(
            "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
        )

    # is a 503 (the client should retry), not a 401 (the client should give up)
    assert_unavailable(response, "/auth/login", "Redis")


def test_mongodb_down_makes_a_request_that_needs_it_503(api: UsersApi, user: User) -> None:
    # Given a user with a valid token
    token = api.token_for(user.email, DEFAULT_PASSWORD)

    # When MongoDB cannot be reached (the session check in Redis still passes)
    with environment(DATABASE_URI=f"mongodb://127.0.0.1:{_closed_port()}/"):
        response = api.request("GET", "/users/me", token=token)

    # Then the request is a 503 problem naming MongoDB, with Retry-After
    assert_unavailable(response, "/users/me", "MongoDB")


def assert_health(response: LambdaResponse, status: str, mongo: str, redis: str) -> None:
    body = response.json()
    latencies = body.pop("latencyMs")
    assert body == {"status": status, "mongo": mongo, "redis": redis}
    # each dependency's round trip, in milliseconds, down or not
    assert set(latencies) == {"mongo", "redis"}
    assert all(isinstance(ms, float | int) and ms >= 0 for ms in latencies.values())


def test_health_names_mongodb_when_it_is_down(api: UsersApi) -> None:
    with environment(DATABASE_URI=f"mongodb://127.0.0.1:{_closed_port()}/"):
        response = api.request("GET", "/health")

    assert response.status == 503
    assert_health(response, "unavailable", "down", "ok")
    assert int(response.headers["retry-after"]) >= 1


def test_health_names_redis_when_it_is_down(api: UsersApi) -> None:
    with environment(REDIS_PORT=str(_closed_port())):
        response = api.request("GET", "/health")

    assert response.status == 503
    assert_health(response, "unavailable", "ok", "down")
    assert int(response.headers["retry-after"]) >= 1


def test_health_is_200_when_both_answer(api: UsersApi) -> None:
    response = api.request("GET", "/health")

    assert response.status == 200
    assert_health(response, "ok", "ok", "ok")
    assert "retry-after" not in response.headers
