"""API4:2023 Unrestricted Resource Consumption: oversized bodies, pages and tampered cursors.

SPEC §6: a body over 64 KiB is a 413, `limit` is 1..200, and a cursor the API did not issue is
a 422 (never a 500, never a query the attacker shaped).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, projects_and_tasks
from tests.security.conftest import Cast

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
