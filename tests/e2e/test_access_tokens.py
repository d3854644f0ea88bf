"""Personal access tokens over HTTP through the gateway (issue 21.1), on every function.

A token created with a session works on each function's routes; a `read` token's writes are
`403` naming `write` on each; once revoked it is `401` on each. The rules in between (expiry, a
deactivated owner, the address budget, the audit events) are in
`tests/integration/test_access_tokens.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from devtools.lambda_local import bearer
from tests.e2e.support import assert_problem
from tests.factories import make_project, make_task
from tests.webhook_factories import CLOSED_PORT_URL
from todo_common.instants import instant_text, utcnow
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
Db = Database[dict[str, Any]]


def _reads(admin: User, project_id: str, task_id: str) -> list[str]:
    """One read on each function (users, projects, tasks, reports, webhooks)."""
    return [
        "/users/me",
        f"/projects/{project_id}",
        f"/tasks/{task_id}",
        f"/reports/users/{admin.id}/workload",
        "/webhooks",
    ]


def _writes(admin: User, project_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """One write on each function that has writes."""
    return [
        ("PATCH", f"/users/{admin.id}", {"fullName": "Changed By A Token"}),
        ("POST", "/projects", {"name": "By a token", "description": ""}),
        ("POST", "/tasks", {"projectId": project_id, "description": "By a token"}),
        ("POST", "/webhooks", {"url": CLOSED_PORT_URL, "events": ["task.created"]}),
    ]


def _create(client: httpx.Client, session: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    expires = instant_text(utcnow() + timedelta(days=7))
    response = client.post(
        "/auth/tokens",
        headers=session,
        json={"name": "e2e", "scopes": scopes, "expiresAt": expires},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_token_works_on_every_function_until_revoked(
    client: httpx.Client, db: Db, user_with_token: UserWithToken
) -> None:
    # Given an ADMIN's read+write token, and a project with a task
    admin, session = user_with_token(Role.ADMIN)
    project = make_project(db, admin)
    task = make_task(db, project)
    created = _create(client, session, ["read", "write"])
    token = bearer(created["token"])

    # When it reads and writes on every function, then each answers as for the ADMIN
    for path in _reads(admin, project.id, task.id):
        response = client.get(path, headers=token)
        assert response.status_code == 200, (path, response.text)
        assert "RateLimit" in response.headers, path
    for method, path, body in _writes(admin, project.id):
        response = client.request(method, path, headers=token, json=body)
        assert response.status_code in (200, 201), (method, path, response.text)

    # When the token is revoked
    revoked = client.delete(f"/auth/tokens/{created['id']}", headers=session)
    assert revoked.status_code == 204, revoked.text

    # Then it is 401 on every function, and the session that revoked it still works
    for path in _reads(admin, project.id, task.id):
        assert_problem(client.get(path, headers=token), 401)
    assert client.get("/users/me", headers=session).status_code == 200


def test_a_read_tokens_writes_are_403_naming_write_on_every_function(
    client: httpx.Client, db: Db, user_with_token: UserWithToken
) -> None:
    # Given an ADMIN's read token
    admin, session = user_with_token(Role.ADMIN)
    project = make_project(db, admin)
    task = make_task(db, project)
    token = bearer(_create(client, session, ["read"])["token"])
    before = {name: db[name].count_documents({}) for name in ("projects", "tasks", "webhooks")}

    # Then it reads everywhere, and every write is 403 naming the missing scope
    for path in _reads(admin, project.id, task.id):
        assert client.get(path, headers=token).status_code == 200, path
    for method, path, body in _writes(admin, project.id):
        problem = assert_problem(client.request(method, path, headers=token, json=body), 403)
        assert "`write`" in problem["detail"], (method, path)
    # And nothing was written
    assert {name: db[name].count_documents({}) for name in before} == before
    assert db.users.count_documents({"fullName": "Changed By A Token"}) == 0
