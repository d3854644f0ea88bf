"""API3:2023 Broken Object Property Level Authorization: mass assignment (SPEC §5, §6).

Only an ADMIN changes `role`, `isActive` or a project's `ownerId`: from anyone else a new value
is a 403. Fields no client writes (`passwordHash`, `version`, `createdBy`, `id`…) and unknown
fields are a 422. Either way nothing changes, and no response shows a password hash.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, projects_and_tasks, users_state
from tests.security.conftest import Cast


# Sending a field with its current value is not a change (docs/decisions.md): only new values.
@pytest.mark.parametrize(
    ("attacker", "change"),
    [
        ("user", {"role": "ADMIN"}),
        ("user", {"role": "MANAGER"}),
        ("user", {"isActive": False}),
        ("manager", {"role": "ADMIN"}),
        ("manager", {"role": "USER"}),
        ("manager", {"isActive": False}),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
    ),
)
def test_non_admin_setting_a_privileged_field_on_their_own_record_gets_403_and_nothing_changes(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    cast: Cast,
    attacker: str,
    change: dict[str, Any],
) -> None:
    actor = getattr(cast, attacker)
    before = users_state(db)

    response = client.patch(f"/users/{actor.id}", json=change, headers=actor.headers)

    assert_problem(response, 403)
    assert users_state(db) == before


@pytest.mark.parametrize(
    "field",
    [
        {"passwordHash": "$2b$04$" + "x" * 53},
        {"version": 99},
        {"id": "5f0000000000000000000000"},
        {"_id": "5f0000000000000000000000"},
        {"createdAt": "2000-01-01T00:00:00Z"},
        {"usernameKey": "admin"},
        {"isAdmin": True},
    ],
    ids=["passwordHash", "version", "id", "_id", "createdAt", "usernameKey", "unknown"],
)
def test_user_writing_a_field_no_client_may_write_gets_422_and_nothing_changes(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast, field: dict[str, Any]
) -> None:
    before = users_state(db)

    patch = client.patch(f"/users/{cast.user.id}", json=field, headers=cast.user.headers)
    put = client.put(
        f"/users/{cast.user.id}",
        json={
            "username": cast.user.user.username,
            "email": cast.user.user.email,
            "fullName": "New Name",
            **field,
        },
        headers=cast.user.headers,
    )

    assert_problem(patch, 422)
    assert_problem(put, 422)
    assert users_state(db) == before


def test_admin_creating_a_user_with_a_password_hash_gets_422(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    before = users_state(db)
    response = client.post(
        "/users",
        json={
            "username": "planted",
            "email": "planted@example.com",
            "fullName": "Planted",
            "password": "long-enough-1",
            "passwordHash": "$2b$04$" + "x" * 53,
        },
        headers=cast.admin.headers,
    )
    assert_problem(response, 422)
    assert users_state(db) == before


def test_manager_giving_their_project_to_another_manager_gets_403_and_nothing_changes(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    created = client.post("/projects", json={"name": "Mine"}, headers=cast.manager.headers)
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    before = projects_and_tasks(db)

    response = client.patch(
        f"/projects/{project_id}",
        json={"ownerId": cast.victim_manager.id},
        headers=cast.manager.headers,
    )

    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


def test_manager_creating_a_project_owned_by_someone_else_gets_403_and_nothing_is_created(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    before = projects_and_tasks(db)
    response = client.post(
        "/projects",
        json={"name": "Planted", "ownerId": cast.victim_manager.id},
        headers=cast.manager.headers,
    )
    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


@pytest.mark.parametrize(
    "field",
    [{"createdBy": "5f0000000000000000000000"}, {"version": 7}, {"completedAt": None}],
    ids=["createdBy", "version", "completedAt"],
)
def test_manager_writing_a_server_managed_task_field_gets_422_and_nothing_changes(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast, field: dict[str, Any]
) -> None:
    before = projects_and_tasks(db)
    response = client.patch(
        f"/tasks/{cast.victim_task.id}", json=field, headers=cast.victim_manager.headers
    )
    assert_problem(response, 422)
    assert projects_and_tasks(db) == before


def test_assignee_changing_anything_but_the_status_of_their_task_gets_403(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    before = projects_and_tasks(db)
    response = client.patch(
        f"/tasks/{cast.victim_task.id}",
        json={"status": "COMPLETED", "description": "and rewritten"},
        headers=cast.victim.headers,
    )
    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


def test_no_response_shows_a_password_hash_or_the_audit_outbox(
    client: httpx.Client, cast: Cast
) -> None:
    for path in ("/users/me", f"/users/{cast.user.id}", "/users?limit=200"):
        response = client.get(path, headers=cast.admin.headers)
        assert response.status_code == 200, response.text
        for secret in ("password", "$2b$", "outbox"):
            assert secret not in response.text.lower(), (path, secret)
