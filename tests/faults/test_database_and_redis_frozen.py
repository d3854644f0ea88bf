"""MongoDB or Redis stops answering mid-run: every request that needs it is a quick 503.

SPEC §6: a dependency that is down is a `503` problem+json with `Retry-After` within 3 seconds,
never a wait until the API Gateway (or Lambda) timeout; the first request after the outage began
included. Once the server answers again, the same requests succeed within seconds: nothing the
outage left behind (a record lock in Redis, a dead pooled connection) keeps refusing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem
from tests.factories import DEFAULT_PASSWORD, make_project
from tests.faults.conftest import LocalServer
from todo_common import container
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

# SPEC §6: the 503 arrives within 3 s. The API's own budget (APP_DEPENDENCY_BUDGET_MS) is
# below this; the difference is the gateway's and this machine's share.
UNAVAILABLE_WITHIN_SECONDS = 3.0
# Once the server answers again, the same request succeeds within this.
RECOVERED_WITHIN_SECONDS = 10.0
# A lock whose holder gave up expires after the budget (2.5 s); writes wait up to 1 s for it.
ABANDONED_LOCK_REFUSES_AT_MOST_SECONDS = 5.0


@dataclass
class Scene:
    """A manager's project and the three requests every outage test sends."""

    manager: User
    headers: dict[str, str]
    project_id: str

    def requests(self, api: httpx.Client) -> dict[str, Callable[[], httpx.Response]]:
        path = f"/projects/{self.project_id}"
        return {
            "read": lambda: api.get(path, headers=self.headers),
            "write": lambda: api.patch(
                path, json={"description": f"at {time.time()}"}, headers=self.headers
            ),
            "login": lambda: api.post(
                "/auth/login", json={"email": self.manager.email, "password": DEFAULT_PASSWORD}
            ),
        }


@pytest.fixture
def scene(
    db: Database[dict[str, Any]],
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
    api: httpx.Client,
) -> Scene:
    manager, headers = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    scene = Scene(manager, headers, project.id)
    for name, send in scene.requests(api).items():  # warm: pools, connections, cold starts
        assert send().status_code == 200, name
    return scene


def timed(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def assert_quick_unavailable(
    response: httpx.Response, took: float, dependency: str, what: str
) -> None:
    body = assert_problem(response, 503)
    assert body["type"].endswith("/dependency-unavailable")
    assert dependency in body["detail"], body
    assert int(response.headers["retry-after"]) >= 1
    assert took < UNAVAILABLE_WITHIN_SECONDS, f"the {what}'s 503 took {took:.2f} s"


def assert_recovers(
    requests: dict[str, Callable[[], httpx.Response]], resumed_at: float
) -> dict[str, float]:
    """Each request succeeds again within RECOVERED_WITHIN_SECONDS of the server resuming;
    returns how long each took to."""
    recovered: dict[str, float] = {}
    for name, send in requests.items():
        while True:
            response = send()
            if response.status_code == 200:
                recovered[name] = time.monotonic() - resumed_at
                break
            assert time.monotonic() - resumed_at < RECOVERED_WITHIN_SECONDS, (
                f"the {name} still fails {RECOVERED_WITHIN_SECONDS} s after the server "
                f"resumed: {response.status_code} {response.text}"
            )
            time.sleep(0.2)
    return recovered


@pytest.mark.parametrize(
    ("server_fixture", "dependency"),
    [("mongo_server", "MongoDB"), ("redis_server", "Redis")],
    ids=["mongodb", "redis"],
)
def test_a_frozen_dependency_gives_a_quick_503_then_the_same_requests_succeed_once_it_is_back(
    server_fixture: str,
    dependency: str,
    scene: Scene,
    api: httpx.Client,
    request: pytest.FixtureRequest,
) -> None:
    server: LocalServer = request.getfixturevalue(server_fixture)
    requests = scene.requests(api)

    # Given a warm API, when the server stops answering (the first request after is the read)
    with server.frozen():
        for name, send in requests.items():
            response, took = timed(send)
            # Then the read, the write and the login each get a quick 503 naming it
            assert_quick_unavailable(response, took, dependency, name)
        health, took = timed(lambda: api.get("/health"))
        assert health.status_code == 503
        assert health.json()[{"MongoDB": "mongo", "Redis": "redis"}[dependency]] == "down"
        assert int(health.headers["retry-after"]) >= 1
        assert took < UNAVAILABLE_WITHIN_SECONDS, f"/health's 503 took {took:.2f} s"
    resumed_at = time.monotonic()

    # And once it answers again, the same requests succeed within seconds
    assert_recovers(requests, resumed_at)
    assert api.get("/health").status_code == 200


def test_a_record_lock_abandoned_in_an_outage_refuses_writes_for_a_moment_only(
    scene: Scene, api: httpx.Client
) -> None:
    # Given the lock of a project's writes, taken by a writer that never releases it (its
    # request ended in a 503, or a frozen Redis applied its SET only when it resumed)
    abandoned = container.locks().hold(f"projects:{scene.project_id}")
    abandoned.__enter__()
    taken_at = time.monotonic()
    write = scene.requests(api)["write"]

    # When writes to that project follow, then the first is refused (409, try again)
    first = write()
    if first.status_code == 200:
        pytest.skip("no record locks on this server: they are FerretDB's (docs/decisions.md)")
    assert_problem(first, 409)
    # and within seconds they succeed again: the lock expired
    while (response := write()).status_code != 200:
        assert_problem(response, 409)
        assert time.monotonic() - taken_at < ABANDONED_LOCK_REFUSES_AT_MOST_SECONDS
