"""API4:2023 Unrestricted Resource Consumption: oversized bodies, pages and tampered cursors.

SPEC §6: a body over 64 KiB is a 413, `limit` is 1..200, and a cursor the API did not issue is
a 422 (never a 500, never a query the attacker shaped).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, count_audits, projects_and_tasks
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.security.conftest import Cast
from todo_common.records import User
from todo_common.settings import get_settings

MIB = 1024 * 1024


@pytest.mark.parametrize("size", [1 * MIB, 10 * MIB], ids=["1MB", "10MB"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/projects"), ("POST", "/auth/login"), ("PATCH", "/users/me-id")],
    ids=["create", "login", "update"],
)
def test_client_sending_a_body_of_megabytes_gets_413_and_nothing_is_stored(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    cast: Cast,
    method: str,
    path: str,
    size: int,
) -> None:
    path = path.replace("me-id", cast.manager.id)
    before = projects_and_tasks(db)
    body = json.dumps({"name": "x", "description": "d" * size})

    response = client.request(
        method,
        path,
        content=body,
        headers={**cast.manager.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 413)
    assert projects_and_tasks(db) == before


def test_client_streaming_a_body_without_a_length_past_the_limit_gets_413(
    client: httpx.Client, cast: Cast
) -> None:
    def chunks() -> Any:
        for _ in range(160):
            yield b"x" * 8192  # 1.25 MiB in all, chunked: no Content-Length to refuse early

    response = client.post(
        "/projects",
        content=chunks(),
        headers={**cast.manager.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 413, response.text


@pytest.mark.parametrize("limit", ["201", "1000000", "0", "-1", "1e3", "9" * 30])
@pytest.mark.parametrize("path", ["/projects", "/tasks", "/users", "/audits"])
def test_client_asking_for_a_page_outside_1_to_200_gets_422(
    client: httpx.Client, cast: Cast, path: str, limit: str
) -> None:
    response = client.get(path, params={"limit": limit}, headers=cast.admin.headers)

    body = assert_problem(response, 422)
    assert any("limit" in error["loc"] for error in body["errors"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


TAMPERED_CURSORS = {
    "garbage": "not-a-cursor",
    "base64-garbage": _b64(b"\x00\xff" * 20),
    "json-operator": _b64(json.dumps({"$where": "sleep(10000)"}).encode()),
    "json-list": _b64(json.dumps([{"$gt": ""}, {"$ne": None}]).encode()),
    "huge": "A" * 2048,
    "too-long": "A" * 5000,
}


@pytest.mark.parametrize("cursor", TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys())
@pytest.mark.parametrize("path", ["/projects", "/tasks", "/users", "/audits"])
def test_client_sending_a_tampered_cursor_gets_422_not_500(
    client: httpx.Client, cast: Cast, path: str, cursor: str
) -> None:
    response = client.get(path, params={"cursor": cursor}, headers=cast.admin.headers)

    assert_problem(response, 422)


def test_client_replaying_a_cursor_of_another_list_gets_422(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    for n in range(3):
        created = client.post("/projects", json={"name": f"P{n}"}, headers=cast.manager.headers)
        assert created.status_code == 201, created.text
    page = client.get("/projects", params={"limit": 1}, headers=cast.admin.headers).json()
    assert page["nextCursor"]

    response = client.get(
        "/users", params={"cursor": page["nextCursor"]}, headers=cast.admin.headers
    )

    assert_problem(response, 422)


# --- found by the outside attack (issue 8) ----------------------------------------

Login = Callable[[str, str], dict[str, Any]]
MakeUser = Callable[..., tuple[User, dict[str, str]]]
Db = Database[dict[str, Any]]
WRONG = "not-the-password-1"


# --- 4. anonymous callers cannot grow the trail without bound ---------------------------------


def test_failed_logins_from_one_address_across_many_emails_are_bounded(
    api: httpx.Client, db: Db
) -> None:
    # Given an attacker who tries a new email on every request, escaping the per-email budget
    budget = get_settings().security.login_max_failures_per_address
    statuses = [
        api.post(
            "/auth/login", json={"email": f"victim{i}@example.com", "password": WRONG}
        ).status_code
        for i in range(budget + 3)
    ]

    # Then the address's budget runs out: the requests past it are 429
    assert statuses[:budget] == [401] * budget
    assert statuses[budget:] == [429] * 3

    # And an existing account cannot be logged into from that address until the window ends
    user = make_user(db)
    login = api.post("/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(login, 429)


def test_a_throttled_attacker_leaves_one_throttled_record_per_window_not_one_per_request(
    api: httpx.Client, db: Db
) -> None:
    # Given an account locked out by five failures
    user = make_user(db)
    limit = get_settings().security.login_max_failures
    for _ in range(limit):
        api.post("/auth/login", json={"email": user.email, "password": WRONG})

    # When the attacker keeps trying ten more times
    for _ in range(10):
        response = api.post("/auth/login", json={"email": user.email, "password": WRONG})
        assert_problem(response, 429)

    # Then the trail holds the five failures and a single throttled record
    assert count_audits(db, {"entityId": user.id}, limit + 1) == limit + 1
    time.sleep(0.5)  # anything more would have arrived by now
    details = sorted(doc["detail"] for doc in db.audits.find({"entityId": user.id}))
    assert details == ["LOGIN_FAILED_THROTTLED"] + ["LOGIN_FAILED_WRONG_PASSWORD"] * limit
