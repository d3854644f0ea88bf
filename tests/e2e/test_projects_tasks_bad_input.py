"""Bad input on the projects and tasks endpoints (SPEC §3, §5, §6): every request here is refused
with the right status and a problem document, and the stored projects
and tasks are exactly as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import (
    OVERSIZED,
    BadInput,
    expired_headers,
    forged_headers,
    list_cursor,
    projects_and_tasks,
)
from tests.factories import make_project, make_task, make_user
from todo_common.principal import Role
from todo_common.records import Project, Task, User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Context:
    """What a bad request is made from: callers' headers and records of every kind."""

    client: httpx.Client
    admin: dict[str, str]
    owner: dict[str, str]  # the MANAGER owning `project`
    user: dict[str, str]  # a USER, assignee of `task`
    project: Project
    task: Task  # open, assigned to the USER
    pending: Task  # open, no assignee
    deleted_project: Project
    inactive_user: User
    inactive_manager: User
    plain_user: User  # active, but a USER cannot own a project

    @property
    def project_url(self) -> str:
        return f"/projects/{self.project.id}"

    @property
    def task_url(self) -> str:
        return f"/tasks/{self.task.id}"


Send = Callable[[Context], httpx.Response]


def _new_task(c: Context, **changes: Any) -> dict[str, Any]:
    return {"projectId": c.project.id, "description": "New", **changes}


def _post_project(body: Callable[[Context], dict[str, Any]], as_admin: bool = False) -> Send:
    return lambda c: c.client.post(
        "/projects", json=body(c), headers=c.admin if as_admin else c.owner
    )


def _patch_project(body: Callable[[Context], Any], as_admin: bool = False) -> Send:
    return lambda c: c.client.patch(
        c.project_url, json=body(c), headers=c.admin if as_admin else c.owner
    )


def _post_task(body: Callable[[Context], dict[str, Any]]) -> Send:
    return lambda c: c.client.post("/tasks", json=body(c), headers=c.owner)


def _patch_task(body: Callable[[Context], Any], pending: bool = False) -> Send:
    return lambda c: c.client.patch(
        f"/tasks/{(c.pending if pending else c.task).id}", json=body(c), headers=c.owner
    )


def _raw(method: str, path: str, content: bytes) -> Send:
    """`{project}` / `{task}` in `path` are the records' ids."""
    return lambda c: c.client.request(
        method,
        path.format(project=c.project.id, task=c.task.id),
        content=content,
        headers={**c.owner, **JSON},
    )


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> Send:
    return lambda c: c.client.request(
        method, path.format(project=c.project.id, task=c.task.id), json=body, headers=c.admin
    )


def _list(path: str, **params: Any) -> Send:
    return lambda c: c.client.get(path, params=params, headers=c.owner)


def _oversized(body: dict[str, Any]) -> bytes:
    return json.dumps({**body, "description": "x" * OVERSIZED}).encode()


# list parameters every list refuses (422), on /projects and on /tasks
LIST_PARAMETERS: dict[str, dict[str, Any]] = {
    "limit=0": {"limit": 0},
    "limit=201": {"limit": 201},
    "limit=x": {"limit": "x"},
    "sort=unknown": {"sort": "unknown"},
    "sort=--createdAt": {"sort": "--createdAt"},
    "isActive=maybe": {"isActive": "maybe"},
    "garbage cursor": {"cursor": "!!not-a-cursor!!"},
    "empty cursor": {"cursor": ""},
    "cursor of another sort": {
        "sort": "-updatedAt",
        "cursor": list_cursor({"s": "createdAt", "id": str(ObjectId()), "k": {"t": "raw", "v": 1}}),
    },
    "cursor smuggling an operator": {
        "cursor": list_cursor(
            {"s": "createdAt", "id": str(ObjectId()), "k": {"t": "raw", "v": {"$ne": 1}}}
        )
    },
}


BAD_INPUTS: dict[str, BadInput[Context]] = {
    # malformed bodies
    "malformed JSON on POST /projects": BadInput(_raw("POST", "/projects", b'{"name": "x",'), 422),
    "malformed JSON on PATCH /projects": BadInput(
        _raw("PATCH", "/projects/{project}", b'{"name": '), 422
    ),
    "malformed JSON on PUT /projects": BadInput(_raw("PUT", "/projects/{project}", b"{"), 422),
    "malformed JSON on POST /tasks": BadInput(_raw("POST", "/tasks", b'{"description": "x'), 422),
    "malformed JSON on PATCH /tasks": BadInput(_raw("PATCH", "/tasks/{task}", b"{,}"), 422),
    "malformed JSON on PUT /tasks": BadInput(_raw("PUT", "/tasks/{task}", b"nope"), 422),
    "JSON array on POST /projects": BadInput(_raw("POST", "/projects", b"[]"), 422),
    "JSON string on PATCH /tasks": BadInput(_raw("PATCH", "/tasks/{task}", b'"status"'), 422),
    # unknown and stored fields: mass assignment is impossible
    "unknown field on POST /projects": BadInput(
        _post_project(lambda c: {"name": "X", "color": "red"}), 422
    ),
    "isActive on POST /projects": BadInput(
        _post_project(lambda c: {"name": "X", "isActive": False}), 422
    ),
    "version on PATCH /projects": BadInput(_patch_project(lambda c: {"version": 9}), 422),
    "cascadeId on PATCH /projects": BadInput(_patch_project(lambda c: {"cascadeId": "x"}), 422),
    "isActive on PATCH /projects (ADMIN)": BadInput(
        _patch_project(lambda c: {"isActive": False}, as_admin=True), 422
    ),
    "unknown field on POST /tasks": BadInput(_post_task(lambda c: _new_task(c, priority=1)), 422),
    "createdBy on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, createdBy=c.plain_user.id)), 422
    ),
    "completedAt on PATCH /tasks": BadInput(
        _patch_task(lambda c: {"completedAt": "2030-01-01T00:00:00Z"}), 422
    ),
    "isActive on PATCH /tasks": BadInput(_patch_task(lambda c: {"isActive": False}), 422),
    "dueSort on PATCH /tasks": BadInput(_patch_task(lambda c: {"dueSort": None}), 422),
    # invalid values
    "blank name on POST /projects": BadInput(_post_project(lambda c: {"name": "   "}), 422),
    "name over 120 on PATCH /projects": BadInput(
        _patch_project(lambda c: {"name": "n" * 121}), 422
    ),
    "null name on PATCH /projects": BadInput(_patch_project(lambda c: {"name": None}), 422),
    "PUT /projects without description": BadInput(
        lambda c: c.client.put(c.project_url, json={"name": "X"}, headers=c.owner), 422
    ),
    "blank description on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, description=" ")), 422
    ),
    "null description on PATCH /tasks": BadInput(_patch_task(lambda c: {"description": None}), 422),
    "null status on PATCH /tasks": BadInput(_patch_task(lambda c: {"status": None}), 422),
    "unknown status on PATCH /tasks": BadInput(_patch_task(lambda c: {"status": "DONE"}), 422),
    "bad dueDate on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, dueDate="next tuesday")), 422
    ),
    "PUT /tasks without status": BadInput(
        lambda c: c.client.put(
            c.task_url, json={"projectId": c.project.id, "description": "X"}, headers=c.owner
        ),
        422,
    ),
    # invalid ObjectId in a body: 422
    "invalid projectId on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, projectId="123")), 422
    ),
    "invalid assignedTo on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, assignedTo="not-a-user")), 422
    ),
    # Upper-case hex ids are accepted everywhere (docs/decisions.md); a non-hex one is not.
    "non-hex projectId on PATCH /tasks": BadInput(
        _patch_task(lambda c: {"projectId": "g" * 24}), 422
    ),
    "invalid ownerId on POST /projects (ADMIN)": BadInput(
        _post_project(lambda c: {"name": "X", "ownerId": "zz"}, as_admin=True), 422
    ),
    "invalid ownerId on PATCH /projects (ADMIN)": BadInput(
        _patch_project(lambda c: {"ownerId": "1234"}, as_admin=True), 422
    ),
    # malformed or unknown ids in a path: 404
    **{
        f"malformed id on {method} {path}": BadInput(_call(method, path, body), 404)
        for method, path, body in [
            ("GET", "/projects/123", None),
            ("PUT", "/projects/123", {"name": "X", "description": ""}),
            ("PATCH", "/projects/not-an-id", {"name": "X"}),
            ("DELETE", "/projects/zzzzzzzzzzzzzzzzzzzzzzzz", None),
            ("POST", "/projects/123/restore", None),
            ("GET", "/tasks/123", None),
            ("PATCH", "/tasks/abc", {"description": "X"}),
            ("DELETE", "/tasks/ABCDEFABCDEFABCDEFABCDEF0", None),
            ("POST", "/tasks/123/restore", None),
        ]
    },
    "unknown id on PATCH /projects": BadInput(
        lambda c: c.client.patch(f"/projects/{ObjectId()}", json={"name": "X"}, headers=c.admin),
        404,
    ),
    "unknown id on DELETE /tasks": BadInput(
        lambda c: c.client.delete(f"/tasks/{ObjectId()}", headers=c.admin), 404
    ),
    "unknown id on POST /tasks/{id}/restore": BadInput(
        lambda c: c.client.post(f"/tasks/{ObjectId()}/restore", headers=c.admin), 404
    ),
    "USER reading a deleted project": BadInput(
        lambda c: c.client.get(f"/projects/{c.deleted_project.id}", headers=c.user), 404
    ),
    # references to records that are unknown or inactive, or of the wrong kind: 422
    "inactive assignee on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, assignedTo=c.inactive_user.id)), 422
    ),
    "unknown assignee on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, assignedTo=str(ObjectId()))), 422
    ),
    "inactive assignee on PATCH /tasks": BadInput(
        _patch_task(lambda c: {"assignedTo": c.inactive_user.id}), 422
    ),
    "unknown assignee on PUT /tasks": BadInput(
        lambda c: c.client.put(
            c.task_url,
            json={
                "projectId": c.project.id,
                "description": "X",
                "status": "ASSIGNED",
                "assignedTo": str(ObjectId()),
            },
            headers=c.owner,
        ),
        422,
    ),
    "deleted project on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, projectId=c.deleted_project.id)), 422
    ),
    "unknown project on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, projectId=str(ObjectId()))), 422
    ),
    "unknown project on POST /tasks, even by a USER": BadInput(
        lambda c: c.client.post(
            "/tasks", json=_new_task(c, projectId=str(ObjectId())), headers=c.user
        ),
        422,
    ),
    "deleted project on PATCH /tasks": BadInput(
        _patch_task(lambda c: {"projectId": c.deleted_project.id}), 422
    ),
    "unknown project on PATCH /tasks": BadInput(
        _patch_task(lambda c: {"projectId": str(ObjectId())}), 422
    ),
    "USER as ownerId on POST /projects (ADMIN)": BadInput(
        _post_project(lambda c: {"name": "X", "ownerId": c.plain_user.id}, as_admin=True), 422
    ),
    "inactive MANAGER as ownerId on POST /projects (ADMIN)": BadInput(
        _post_project(lambda c: {"name": "X", "ownerId": c.inactive_manager.id}, as_admin=True),
        422,
    ),
    "unknown ownerId on POST /projects (ADMIN)": BadInput(
        _post_project(lambda c: {"name": "X", "ownerId": str(ObjectId())}, as_admin=True), 422
    ),
    "USER as ownerId on PATCH /projects (ADMIN)": BadInput(
        _patch_project(lambda c: {"ownerId": c.plain_user.id}, as_admin=True), 422
    ),
    "inactive MANAGER as ownerId on PUT /projects (ADMIN)": BadInput(
        lambda c: c.client.put(
            c.project_url,
            json={"name": "X", "description": "", "ownerId": c.inactive_manager.id},
            headers=c.admin,
        ),
        422,
    ),
    # a status that contradicts the assignee: 422
    "ASSIGNED without assignee on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, status="ASSIGNED")), 422
    ),
    "PENDING with an assignee on POST /tasks": BadInput(
        _post_task(lambda c: _new_task(c, status="PENDING", assignedTo=c.plain_user.id)), 422
    ),
    "ASSIGNED on an unassigned task": BadInput(
        _patch_task(lambda c: {"status": "ASSIGNED"}, pending=True), 422
    ),
    "PENDING on an assigned task": BadInput(_patch_task(lambda c: {"status": "PENDING"}), 422),
    "PENDING while assigning": BadInput(
        _patch_task(lambda c: {"status": "PENDING", "assignedTo": c.plain_user.id}, pending=True),
        422,
    ),
    "ASSIGNED while unassigning": BadInput(
        _patch_task(lambda c: {"status": "ASSIGNED", "assignedTo": None}), 422
    ),
    "PUT ASSIGNED without assignedTo (which PUT clears)": BadInput(
        lambda c: c.client.put(
            c.task_url,
            json={"projectId": c.project.id, "description": "X", "status": "ASSIGNED"},
            headers=c.owner,
        ),
        422,
    ),
    # list parameters
    **{
        f"{path} {name}": BadInput(_list(path, **params), 422)
        for path in ("/projects", "/tasks")
        for name, params in LIST_PARAMETERS.items()
    },
    "/projects sort=dueDate": BadInput(_list("/projects", sort="dueDate"), 422),
    "/projects sort=nameKey": BadInput(_list("/projects", sort="nameKey"), 422),
    "/projects ownerId=bad": BadInput(_list("/projects", ownerId="bad"), 422),
    "/projects empty q": BadInput(_list("/projects", q=""), 422),
    "/tasks sort=name": BadInput(_list("/tasks", sort="name"), 422),
    "/tasks sort=dueSort": BadInput(_list("/tasks", sort="dueSort"), 422),
    "/tasks status=DONE": BadInput(_list("/tasks", status="DONE"), 422),
    "/tasks assignedTo=you": BadInput(_list("/tasks", assignedTo="you"), 422),
    "/tasks projectId=bad": BadInput(_list("/tasks", projectId="bad"), 422),
    "/tasks dueBefore=soon": BadInput(_list("/tasks", dueBefore="soon"), 422),
    # bodies over 64 KiB
    "70 KB POST /projects": BadInput(_raw("POST", "/projects", _oversized({"name": "Big"})), 413),
    "70 KB PATCH /projects": BadInput(_raw("PATCH", "/projects/{project}", _oversized({})), 413),
    "70 KB POST /tasks": BadInput(_raw("POST", "/tasks", _oversized({"projectId": "x"})), 413),
    "70 KB PUT /tasks": BadInput(_raw("PUT", "/tasks/{task}", _oversized({"status": "x"})), 413),
    # tokens: a forged or expired one is the function's 401, like a missing one
    "forged token on POST /projects": BadInput(
        lambda c: c.client.post("/projects", json={"name": "X"}, headers=forged_headers(c.owner)),
        401,
    ),
    "forged token on DELETE /projects": BadInput(
        lambda c: c.client.delete(c.project_url, headers=forged_headers(c.owner)),
        401,
    ),
    "forged token on PATCH /tasks": BadInput(
        lambda c: c.client.patch(
            c.task_url, json={"description": "X"}, headers=forged_headers(c.owner)
        ),
        401,
    ),
    "forged token on GET /tasks": BadInput(
        lambda c: c.client.get("/tasks", headers=forged_headers(c.owner)), 401
    ),
    "expired token on POST /projects": BadInput(
        lambda c: c.client.post("/projects", json={"name": "X"}, headers=expired_headers(c.owner)),
        401,
    ),
    "expired token on DELETE /projects": BadInput(
        lambda c: c.client.delete(c.project_url, headers=expired_headers(c.owner)), 401
    ),
    "expired token on POST /tasks": BadInput(
        lambda c: c.client.post("/tasks", json=_new_task(c), headers=expired_headers(c.owner)), 401
    ),
    "expired token on PATCH /tasks": BadInput(
        lambda c: c.client.patch(
            c.task_url, json={"description": "X"}, headers=expired_headers(c.owner)
        ),
        401,
    ),
    "no token on POST /tasks": BadInput(
        lambda c: c.client.post("/tasks", json=_new_task(c)),
        401,
    ),
    # headers
    "If-Match that is no ETag on PATCH /projects": BadInput(
        lambda c: c.client.patch(
            c.project_url, json={"name": "X"}, headers={**c.owner, "If-Match": "latest"}
        ),
        412,
    ),
    "If-Match that is no ETag on DELETE /tasks": BadInput(
        lambda c: c.client.delete(c.task_url, headers={**c.owner, "If-Match": "v1"}), 412
    ),
    "Idempotency-Key over 255 characters on POST /tasks": BadInput(
        lambda c: c.client.post(
            "/tasks", json=_new_task(c), headers={**c.owner, "Idempotency-Key": "k" * 256}
        ),
        422,
    ),
}


@pytest.fixture
def context(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> Context:
    _, admin = user_with_token(Role.ADMIN)
    manager, owner = user_with_token(Role.MANAGER)
    assignee, user = user_with_token(Role.USER)
    project = make_project(db, manager, name="Target")
    return Context(
        client=client,
        admin=admin,
        owner=owner,
        user=user,
        project=project,
        task=make_task(db, project, assignee=assignee),
        pending=make_task(db, project),
        deleted_project=make_project(
            db, make_user(db, role=Role.MANAGER), name="Gone", is_active=False
        ),
        inactive_user=make_user(db, is_active=False),
        inactive_manager=make_user(db, role=Role.MANAGER, is_active=False),
        plain_user=make_user(db),
    )


@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_given_bad_input_when_sent_then_refused_and_projects_and_tasks_are_unchanged(
    db: Database[dict[str, Any]], context: Context, case: BadInput[Context]
) -> None:
    before = projects_and_tasks(db)

    response = case.send(context)

    case.assert_refused(response)
    assert projects_and_tasks(db) == before


# -- controls: the same requests, made right, succeed ------------------------------------------

GOOD_INPUTS: dict[str, tuple[Send, int]] = {
    "POST /projects": (_post_project(lambda c: {"name": "Fine"}), 201),
    "ADMIN names an active MANAGER as owner": (
        _post_project(lambda c: {"name": "Fine", "ownerId": c.project.owner_id}, as_admin=True),
        201,
    ),
    "POST /tasks with an active assignee and ASSIGNED": (
        _post_task(lambda c: _new_task(c, assignedTo=c.plain_user.id, status="ASSIGNED")),
        201,
    ),
    "POST /tasks with a naive dueDate": (
        _post_task(lambda c: _new_task(c, dueDate="2030-01-01T10:00:00")),
        201,
    ),
    "PATCH /tasks ASSIGNED while assigning": (
        _patch_task(lambda c: {"status": "ASSIGNED", "assignedTo": c.plain_user.id}, pending=True),
        200,
    ),
    "PATCH /tasks PENDING while unassigning": (
        _patch_task(lambda c: {"status": "PENDING", "assignedTo": None}),
        200,
    ),
    "If-Match *": (
        lambda c: c.client.patch(
            c.project_url, json={"name": "Y"}, headers={**c.owner, "If-Match": "*"}
        ),
        200,
    ),
    "If-Match weak ETag": (
        lambda c: c.client.delete(c.task_url, headers={**c.owner, "If-Match": 'W/"1"'}),
        204,
    ),
    "/projects limit=1": (_list("/projects", limit=1), 200),
    "/projects limit=200 sort=-name": (_list("/projects", limit=200, sort="-name"), 200),
    "/tasks limit=200 sort=-dueDate": (_list("/tasks", limit=200, sort="-dueDate"), 200),
    "/tasks dueBefore naive": (_list("/tasks", dueBefore="2030-01-01T00:00:00"), 200),
}


@pytest.mark.parametrize(("send", "status"), GOOD_INPUTS.values(), ids=GOOD_INPUTS.keys())
def test_given_good_input_next_to_the_bad_when_sent_then_accepted(
    context: Context, send: Send, status: int
) -> None:
    """Controls for the cases above: the refusals come from the bad part, not the request."""
    response = send(context)

    assert response.status_code == status, response.text


def test_given_a_naive_due_date_then_it_is_taken_as_utc(context: Context) -> None:
    response = _post_task(lambda c: _new_task(c, dueDate="2030-01-01T10:00:00"))(context)

    assert response.status_code == 201, response.text
    assert response.json()["dueDate"] == "2030-01-01T10:00:00.000Z"
