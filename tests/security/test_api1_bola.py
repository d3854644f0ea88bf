"""API1:2023 Broken Object Level Authorization: reaching another user's or manager's records
by their id (SPEC §5). Well-formed foreign ids are 403 (or 404 when the record is invisible),
malformed ids 404, and nothing changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, projects_and_tasks, users_state
from tests.security.conftest import Cast

MALFORMED_IDS = ["abc", "0" * 23, "g" * 24, "%24ne", "6" * 25, "null"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_user_reaching_another_users_record_gets_403_and_nothing_changes(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast, method: str
) -> None:
    before = users_state(db)
    body = {"username": "pwned", "email": "pwned@example.com", "fullName": "Pwned"}
    response = client.request(
        method,
        f"/users/{cast.victim.id}",
        headers=cast.user.headers,
        json=body if method in ("PATCH", "PUT") else None,
    )
    assert_problem(response, 403)
    assert users_state(db) == before


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_manager_reaching_another_managers_user_record_gets_403(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast, method: str
) -> None:
    before = users_state(db)
    response = client.request(
        method,
        f"/users/{cast.victim_manager.id}",
        headers=cast.manager.headers,
        json={"fullName": "Pwned"} if method == "PATCH" else None,
    )
    assert_problem(response, 403)
    assert users_state(db) == before


def test_user_reading_a_user_id_that_does_not_exist_gets_403_not_an_existence_oracle(
    client: httpx.Client, cast: Cast
) -> None:
    missing = "5f0000000000000000000000"
    existing = client.get(f"/users/{cast.victim.id}", headers=cast.user.headers)
    unknown = client.get(f"/users/{missing}", headers=cast.user.headers)
    assert_problem(existing, 403)
    assert_problem(unknown, 403)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"description": "pwned"}),
        ("PUT", "", {"name": "Pwned", "description": "pwned"}),
        ("DELETE", "", None),
        ("POST", "/restore", None),
    ],
    ids=["patch", "put", "delete", "restore"],
)
def test_manager_writing_another_managers_project_gets_403_and_nothing_changes(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    cast: Cast,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    before = projects_and_tasks(db)
    response = client.request(
        method,
        f"/projects/{cast.victim_project.id}{suffix}",
        headers=cast.manager.headers,
        json=body,
    )
    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"description": "pwned"}),
        ("DELETE", "", None),
        ("POST", "/restore", None),
    ],
    ids=["patch", "delete", "restore"],
)
def test_manager_writing_a_task_of_another_managers_project_gets_403_and_nothing_changes(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    cast: Cast,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    before = projects_and_tasks(db)
    response = client.request(
        method, f"/tasks/{cast.victim_task.id}{suffix}", headers=cast.manager.headers, json=body
    )
    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


def test_user_changing_the_status_of_a_task_assigned_to_someone_else_gets_403(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    before = projects_and_tasks(db)
    response = client.patch(
        f"/tasks/{cast.victim_task.id}", json={"status": "COMPLETED"}, headers=cast.user.headers
    )
    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


def test_manager_creating_a_task_in_another_managers_project_gets_403_and_nothing_is_created(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    before = projects_and_tasks(db)
    response = client.post(
        "/tasks",
        json={"projectId": cast.victim_project.id, "description": "planted"},
        headers=cast.manager.headers,
    )
    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


def test_user_reading_another_users_workload_gets_403(client: httpx.Client, cast: Cast) -> None:
    response = client.get(f"/reports/users/{cast.victim.id}/workload", headers=cast.user.headers)
    assert_problem(response, 403)


def test_user_reading_a_deleted_project_gets_404_as_if_it_did_not_exist(
    client: httpx.Client, cast: Cast
) -> None:
    deleted = client.delete(
        f"/projects/{cast.victim_project.id}", headers=cast.victim_manager.headers
    )
    assert deleted.status_code == 204, deleted.text
    for path in (f"/projects/{cast.victim_project.id}", f"/tasks/{cast.victim_task.id}"):
        assert_problem(client.get(path, headers=cast.user.headers), 404)


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
@pytest.mark.parametrize("collection", ["users", "projects", "tasks"])
def test_malformed_or_injected_ids_get_404_before_any_lookup(
    client: httpx.Client, cast: Cast, collection: str, bad_id: str
) -> None:
    response = client.get(f"/{collection}/{bad_id}", headers=cast.admin.headers)
    assert_problem(response, 404)
