"""API5:2023 Broken Function Level Authorization: USER and MANAGER calling what only an ADMIN
(or a MANAGER) may call (the table of SPEC §5). Each is a 403 problem and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, projects_and_tasks, users_state
from tests.security.conftest import Cast

NEW_USER = {
    "username": "planted",
    "email": "planted@example.com",
    "fullName": "Planted Admin",
    "password": "long-enough-1",
    "role": "ADMIN",
}

# (method, path template, body): {victim} is a deleted user, {project} a deleted project,
# {task} a deleted task.
ADMIN_ONLY = {
    "list-audits": ("GET", "/audits", None),
    "read-an-audit": ("GET", "/audits/5f0000000000000000000000", None),
    "activity-report": ("GET", "/reports/activity?from=2026-01-01&to=2026-01-31", None),
    "create-a-user": ("POST", "/users", NEW_USER),
    "restore-a-user": ("POST", "/users/{victim}/restore", None),
}
MANAGER_OR_ADMIN = {
    "create-a-project": ("POST", "/projects", {"name": "Planted"}),
    "create-a-task": ("POST", "/tasks", {"projectId": "{project}", "description": "Planted"}),
    "delete-a-task": ("DELETE", "/tasks/{task}", None),
    "restore-a-task": ("POST", "/tasks/{task}/restore", None),
}


def _fill(value: Any, cast: Cast) -> Any:
    names = {
        "victim": cast.victim.id,
        "project": cast.victim_project.id,
        "task": cast.victim_task.id,
    }
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {key: _fill(item, cast) for key, item in value.items()}
    return value


@pytest.fixture
def victim_deleted(client: httpx.Client, cast: Cast) -> Cast:
    """The cast with the victim user deleted (so a restore would do something)."""
    response = client.delete(f"/users/{cast.victim.id}", headers=cast.admin.headers)
    assert response.status_code == 204, response.text
    return cast


def _assert_refused(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    headers: dict[str, str],
    call: tuple[str, str, dict[str, Any] | None],
    cast: Cast,
) -> None:
    method, path, body = call
    before = (users_state(db), projects_and_tasks(db))
    response = client.request(method, _fill(path, cast), json=_fill(body, cast), headers=headers)
    assert_problem(response, 403)
    assert (users_state(db), projects_and_tasks(db)) == before


@pytest.mark.parametrize("call", ADMIN_ONLY.values(), ids=ADMIN_ONLY.keys())
@pytest.mark.parametrize("attacker", ["user", "manager"])
def test_non_admin_calling_an_admin_only_operation_gets_403_and_nothing_changes(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    victim_deleted: Cast,
    attacker: str,
    call: tuple[str, str, dict[str, Any] | None],
) -> None:
    cast = victim_deleted
    _assert_refused(client, db, getattr(cast, attacker).headers, call, cast)


@pytest.mark.parametrize("call", MANAGER_OR_ADMIN.values(), ids=MANAGER_OR_ADMIN.keys())
def test_user_calling_a_manager_operation_gets_403_and_nothing_changes(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    cast: Cast,
    call: tuple[str, str, dict[str, Any] | None],
) -> None:
    _assert_refused(client, db, cast.user.headers, call, cast)


def test_user_listing_the_user_directory_gets_403(client: httpx.Client, cast: Cast) -> None:
    assert_problem(client.get("/users", headers=cast.user.headers), 403)


def test_manager_listing_inactive_users_gets_403(client: httpx.Client, cast: Cast) -> None:
    response = client.get("/users", params={"isActive": "false"}, headers=cast.manager.headers)
    assert_problem(response, 403)
