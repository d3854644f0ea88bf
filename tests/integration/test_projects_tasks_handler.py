"""The projects and tasks functions through their real Lambda handlers, fed SAM-shaped events.

Each case checks what the client sees (status, headers, body) and what MongoDB holds; every
refused request must leave the stored projects and tasks exactly as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import ATTACKER_EC_KEY, api_kid
from tests.factories import (
    DEFAULT_PASSWORD,
    WITHOUT_OUTBOX,
    make_project,
    make_task,
    make_user,
    settle_audit_sends,
)
from tests.integration.lambda_events import FunctionApi, LambdaResponse
from todo_common import container
from todo_common.principal import Role
from todo_common.records import Project, Task, User

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
UNKNOWN_ID = "0123456789abcdef01234567"


def token_of(user: User) -> str:
    return container.auth_service().login(user.email, DEFAULT_PASSWORD, "127.0.0.1").access_token


def stored_data(db: Db) -> dict[str, list[dict[str, Any]]]:
    """Every stored project and task, in a stable order: what a refused request must not change."""
    return {
        "projects": list(db.projects.find({}, WITHOUT_OUTBOX).sort("_id", 1)),
        "tasks": list(db.tasks.find({}, WITHOUT_OUTBOX).sort("_id", 1)),
    }


def problem_of(response: LambdaResponse, status: int, path: str) -> dict[str, Any]:
    assert response.status == status, (response.status, response.body)
    problem = response.problem()
    assert problem["instance"] == path
    assert problem["type"].startswith("https://")
    assert problem["requestId"] == response.headers["x-request-id"]
    assert "Traceback" not in response.body.decode()
    return problem


@dataclass
class World:
    """An ADMIN, a MANAGER owning a project with one task assigned to a USER, and their tokens."""

    admin: User
    owner: User
    user: User
    project: Project
    task: Task
    tokens: dict[str, str]


@pytest.fixture
def world(db: Db, clean: None) -> World:
    admin = make_user(db, role=Role.ADMIN)
    owner = make_user(db, role=Role.MANAGER)
    user = make_user(db)
    project = make_project(db, owner, name="Launch", description="Go")
    task = make_task(db, project, assignee=user, description="Count down")
    tokens = {"admin": token_of(admin), "owner": token_of(owner), "user": token_of(user)}
    return World(admin, owner, user, project, task, tokens)


@pytest.fixture
def projects() -> FunctionApi:
    return FunctionApi("projects")


@pytest.fixture
def tasks() -> FunctionApi:
    return FunctionApi("tasks")


# -- creating, reading -------------------------------------------------------------------------


def test_given_a_manager_when_they_post_a_project_then_201_with_location_and_etag(
    db: Db, world: World, projects: FunctionApi
) -> None:
    response = projects.request(
        "POST",
        "/projects",
        token=world.tokens["owner"],
        json={"name": "Orbit", "description": "Around"},
    )

    assert response.status == 201, response.body
    assert response.content_type.startswith("application/json")
    body = response.json()
    assert response.headers["location"] == f"/projects/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body == {
        "id": body["id"],
        "name": "Orbit",
        "description": "Around",
        "ownerId": world.owner.id,
        "isActive": True,
        "version": 1,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    assert ISO_UTC.match(body["createdAt"])
    doc = db.projects.find_one({"_id": ObjectId(body["id"])})
    assert doc is not None
    assert (doc["name"], doc["ownerId"], doc["version"]) == ("Orbit", world.owner.id, 1)

    # and reading it back gives the same representation with its ETag
    read = projects.request("GET", f"/projects/{body['id']}", token=world.tokens["user"])
    assert read.status == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


def test_given_the_project_owner_when_they_post_a_task_then_201_with_location_and_etag(
    db: Db, world: World, tasks: FunctionApi
) -> None:
    response = tasks.request(
        "POST",
        "/tasks",
        token=world.tokens["owner"],
        json={
            "projectId": world.project.id,
            "description": "Fuel up",
            "assignedTo": world.user.id,
            "dueDate": "2031-05-17T11:30:00+02:00",
        },
    )

    assert response.status == 201, response.body
    body = response.json()
    assert response.headers["location"] == f"/tasks/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body == {
        "id": body["id"],
        "projectId": world.project.id,
        "description": "Fuel up",
        "assignedTo": world.user.id,
        "status": "ASSIGNED",
        "dueDate": "2031-05-17T09:30:00.000Z",  # answered at millisecond precision
        "completedAt": None,
        "createdBy": world.owner.id,
        "isActive": True,
        "version": 1,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    doc = db.tasks.find_one({"_id": ObjectId(body["id"])})
    assert doc is not None
    assert (doc["status"], doc["assignedTo"], doc["createdBy"]) == (
        "ASSIGNED",
        world.user.id,
        world.owner.id,
    )

    read = tasks.request("GET", f"/tasks/{body['id']}", token=world.tokens["user"])
    assert read.status == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


def test_given_a_user_when_they_post_a_project_or_task_then_403_and_nothing_is_created(
    db: Db, world: World, projects: FunctionApi, tasks: FunctionApi
) -> None:
    before = stored_data(db)

    project = projects.request("POST", "/projects", token=world.tokens["user"], json={"name": "x"})
    task = tasks.request(
        "POST",
        "/tasks",
        token=world.tokens["user"],
        json={"projectId": world.project.id, "description": "x"},
    )

    problem_of(project, 403, "/projects")
    problem_of(task, 403, "/tasks")
    assert stored_data(db) == before


# -- updating with If-Match ----------------------------------------------------------------------


def test_given_a_fresh_etag_when_the_owner_patches_then_200_with_the_next_etag(
    db: Db, world: World, projects: FunctionApi, tasks: FunctionApi
) -> None:
    project = projects.request(
        "PATCH",
        f"/projects/{world.project.id}",
        token=world.tokens["owner"],
        json={"name": "Relaunch"},
        headers={"If-Match": '"1"'},
    )
    task = tasks.request(
        "PATCH",
        f"/tasks/{world.task.id}",
        token=world.tokens["user"],
        json={"status": "COMPLETED"},
        headers={"If-Match": 'W/"1"'},
    )

    assert project.status == 200, project.body
    assert project.headers["etag"] == '"2"'
    assert project.json()["name"] == "Relaunch"
    assert task.status == 200, task.body
    assert task.headers["etag"] == '"2"'
    assert task.json()["status"] == "COMPLETED"
    assert ISO_UTC.match(task.json()["completedAt"])
    project_doc = db.projects.find_one({"_id": ObjectId(world.project.id)})
    task_doc = db.tasks.find_one({"_id": ObjectId(world.task.id)})
    assert project_doc is not None
    assert task_doc is not None
    assert (project_doc["name"], project_doc["version"]) == ("Relaunch", 2)
    assert (task_doc["status"], task_doc["version"]) == ("COMPLETED", 2)


def _stale_project_write(world: World, method: str) -> tuple[str, str, Any]:
    path = f"/projects/{world.project.id}"
    bodies = {"PUT": {"name": "Put", "description": "put"}, "PATCH": {"name": "Patched"}}
    if method == "RESTORE":
        return "POST", path + "/restore", None
    return method, path, bodies.get(method)


def _stale_task_write(world: World, method: str) -> tuple[str, str, Any]:
    path = f"/tasks/{world.task.id}"
    bodies = {
        "PUT": {"projectId": world.project.id, "description": "Put", "status": "PENDING"},
        "PATCH": {"description": "Patched"},
    }
    if method == "RESTORE":
        return "POST", path + "/restore", None
    return method, path, bodies.get(method)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "RESTORE"])
@pytest.mark.parametrize(
    ("function", "write"),
    [("projects", _stale_project_write), ("tasks", _stale_task_write)],
    ids=["project", "task"],
)
def test_given_a_stale_if_match_when_writing_then_412_and_nothing_changes(
    db: Db,
    world: World,
    function: str,
    write: Callable[[World, str], tuple[str, str, Any]],
    method: str,
) -> None:
    # Given a project and a task at version 2 (someone changed them since ETag "1")
    settle_audit_sends()  # a background outbox clear must not overwrite this
    db.projects.update_one({"_id": ObjectId(world.project.id)}, {"$inc": {"version": 1}})
    settle_audit_sends()  # a background outbox clear must not overwrite this
    db.tasks.update_one({"_id": ObjectId(world.task.id)}, {"$inc": {"version": 1}})
    before = stored_data(db)
    http_method, path, body = write(world, method)

    # When the owner writes with If-Match "1"
    response = FunctionApi(function).request(
        http_method, path, token=world.tokens["owner"], json=body, headers={"If-Match": '"1"'}
    )

    # Then it is a 412 problem, and nothing changed
    assert problem_of(response, 412, path)["title"] == "Precondition Failed"
    assert stored_data(db) == before


def test_given_the_owner_when_they_delete_and_restore_a_project_then_204_and_200_with_etag(
    db: Db, world: World, projects: FunctionApi, tasks: FunctionApi
) -> None:
    path = f"/projects/{world.project.id}"

    deleted = projects.request("DELETE", path, token=world.tokens["owner"])

    assert deleted.status == 204
    assert deleted.body == b""
    # the project and its task are gone for a USER, still there for the owner
    problem_of(projects.request("GET", path, token=world.tokens["user"]), 404, path)
    task_path = f"/tasks/{world.task.id}"
    problem_of(tasks.request("GET", task_path, token=world.tokens["user"]), 404, task_path)
    seen = projects.request("GET", path, token=world.tokens["owner"])
    assert (seen.status, seen.headers["etag"], seen.json()["isActive"]) == (200, '"2"', False)

    restored = projects.request(
        "POST", path + "/restore", token=world.tokens["owner"], headers={"If-Match": '"2"'}
    )

    assert restored.status == 200, restored.body
    assert restored.headers["etag"] == '"3"'
    assert restored.json()["isActive"] is True
    task = tasks.request("GET", task_path, token=world.tokens["user"])
    assert (task.status, task.headers["etag"], task.json()["isActive"]) == (200, '"3"', True)


def test_given_the_owner_when_they_delete_and_restore_a_task_then_204_and_200_with_etag(
    db: Db, world: World, tasks: FunctionApi
) -> None:
    path = f"/tasks/{world.task.id}"

    deleted = tasks.request("DELETE", path, token=world.tokens["owner"], headers={"If-Match": "*"})
    restored = tasks.request("POST", path + "/restore", token=world.tokens["admin"])

    assert (deleted.status, deleted.body) == (204, b"")
    assert restored.status == 200, restored.body
    assert restored.headers["etag"] == '"3"'
    doc = db.tasks.find_one({"_id": ObjectId(world.task.id)})
    assert doc is not None
    assert (doc["isActive"], doc["version"]) == (True, 3)


# -- Idempotency-Key -----------------------------------------------------------------------------


@pytest.mark.parametrize("function", ["projects", "tasks"])
def test_given_a_create_with_an_idempotency_key_when_retried_then_it_is_replayed(
    db: Db, world: World, function: str
) -> None:
    api = FunctionApi(function)
    path = f"/{function}"
    body: dict[str, Any] = (
        {"name": "Once", "description": "only"}
        if function == "projects"
        else {"projectId": world.project.id, "description": "Once only"}
    )
    key = {"Idempotency-Key": "retry-me"}
    first = api.request("POST", path, token=world.tokens["owner"], json=body, headers=key)
    assert first.status == 201, first.body
    after_first = stored_data(db)

    # When the same request is sent again with the same key
    again = api.request("POST", path, token=world.tokens["owner"], json=body, headers=key)

    # Then the first answer comes back, marked as replayed, and nothing new is stored
    assert again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert stored_data(db) == after_first

    # and the same key with another body is a 422 that creates nothing either
    other = body | {"description": "something else"}
    refused = api.request("POST", path, token=world.tokens["owner"], json=other, headers=key)
    problem = problem_of(refused, 422, path)
    assert any("Idempotency-Key" in error["loc"] for error in problem["errors"])
    assert stored_data(db) == after_first


# -- lists over HTTP -----------------------------------------------------------------------------


def test_given_assigned_tasks_when_walked_over_http_with_filters_then_each_comes_once(
    db: Db, world: World, tasks: FunctionApi
) -> None:
    # Given five more open tasks for the USER, one completed, and one for nobody
    mine = [world.task, *(make_task(db, world.project, assignee=world.user) for _ in range(5))]
    make_task(db, world.project, assignee=world.user, completed=True)
    make_task(db, world.project)

    # When the USER walks assignedTo=me&status=ASSIGNED two at a time, following nextCursor
    seen: list[str] = []
    query = {"assignedTo": "me", "status": "ASSIGNED", "limit": "2", "sort": "-createdAt"}
    for _ in range(10):
        response = tasks.request("GET", "/tasks", token=world.tokens["user"], query=query)
        assert response.status == 200, response.body
        page = response.json()
        assert set(page) == {"items", "nextCursor"}
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        if page["nextCursor"] is None:
            break
        query["cursor"] = page["nextCursor"]

    # Then exactly their six open tasks come, newest first
    assert seen == [t.id for t in sorted(mine, key=lambda t: (t.created_at, t.id), reverse=True)]


def test_given_projects_when_listed_over_http_then_pages_link_by_cursor(
    db: Db, world: World, projects: FunctionApi
) -> None:
    names = ["alpha", "Beta", "gamma"]
    for name in names:
        make_project(db, world.owner, name=name)

    first = projects.request(
        "GET", "/projects", token=world.tokens["user"], query={"limit": "2", "sort": "name"}
    )
    second = projects.request(
        "GET",
        "/projects",
        token=world.tokens["user"],
        query={"limit": "2", "sort": "name", "cursor": first.json()["nextCursor"]},
    )

    assert [p["name"] for p in first.json()["items"]] == ["alpha", "Beta"]
    assert [p["name"] for p in second.json()["items"]] == ["gamma", "Launch"]
    assert second.json()["nextCursor"] is None


# -- bad input: each refused, nothing changed ----------------------------------------------------


@dataclass(frozen=True)
class Bad:
    function: str
    method: str
    path: Callable[[World], str]
    status: int
    body: Callable[[World], bytes | None] = lambda w: None
    query: dict[str, str] | None = None
    bad_field: str | None = None  # named in the 422's errors


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def _project(w: World) -> str:
    return f"/projects/{w.project.id}"


def _task(w: World) -> str:
    return f"/tasks/{w.task.id}"


def _big_task(w: World) -> bytes:
    return _json({"projectId": w.project.id, "description": "x" * 70 * 1024})


BAD_INPUTS = {
    # malformed JSON
    "project-malformed-json": Bad(
        "projects", "POST", lambda w: "/projects", 422, lambda w: b'{"name": '
    ),
    "task-malformed-json": Bad("tasks", "PATCH", _task, 422, lambda w: b"{not json"),
    # unknown fields (mass assignment)
    "project-unknown-field": Bad(
        "projects",
        "POST",
        lambda w: "/projects",
        422,
        lambda w: _json({"name": "x", "isActive": False}),
        bad_field="isActive",
    ),
    "project-patch-version": Bad(
        "projects", "PATCH", _project, 422, lambda w: _json({"version": 9}), bad_field="version"
    ),
    "task-unknown-field": Bad(
        "tasks",
        "POST",
        lambda w: "/tasks",
        422,
        lambda w: _json({"projectId": w.project.id, "description": "x", "createdBy": w.user.id}),
        bad_field="createdBy",
    ),
    "task-patch-completed-at": Bad(
        "tasks",
        "PATCH",
        _task,
        422,
        lambda w: _json({"completedAt": "2030-01-01T00:00:00Z"}),
        bad_field="completedAt",
    ),
    "task-patch-null-status": Bad("tasks", "PATCH", _task, 422, lambda w: _json({"status": None})),
    # invalid ids in the body
    "project-invalid-owner-id": Bad(
        "projects",
        "POST",
        lambda w: "/projects",
        422,
        lambda w: _json({"name": "x", "ownerId": "not-an-id"}),
        bad_field="ownerId",
    ),
    "task-invalid-project-id": Bad(
        "tasks",
        "POST",
        lambda w: "/tasks",
        422,
        lambda w: _json({"projectId": "123", "description": "x"}),
        bad_field="projectId",
    ),
    "task-invalid-assignee": Bad(
        "tasks",
        "PATCH",
        _task,
        422,
        lambda w: _json({"assignedTo": "ABCDEF"}),
        bad_field="assignedTo",
    ),
    # invalid ids in the path
    "project-get-bad-id": Bad("projects", "GET", lambda w: "/projects/not-an-id", 404),
    "project-patch-bad-id": Bad(
        "projects", "PATCH", lambda w: "/projects/zzz", 404, lambda w: _json({"name": "x"})
    ),
    "project-delete-bad-id": Bad("projects", "DELETE", lambda w: "/projects/1234", 404),
    "project-restore-bad-id": Bad("projects", "POST", lambda w: "/projects/1234/restore", 404),
    "project-delete-unknown-id": Bad(
        "projects", "DELETE", lambda w: f"/projects/{UNKNOWN_ID}", 404
    ),
    "task-get-bad-id": Bad("tasks", "GET", lambda w: "/tasks/not-an-id", 404),
    "task-put-bad-id": Bad(
        "tasks",
        "PUT",
        lambda w: "/tasks/xyz",
        404,
        lambda w: _json({"projectId": w.project.id, "description": "x", "status": "PENDING"}),
    ),
    "task-delete-bad-id": Bad("tasks", "DELETE", lambda w: "/tasks/" + "g" * 24, 404),
    "task-restore-bad-id": Bad("tasks", "POST", lambda w: "/tasks/nope/restore", 404),
    # list parameters
    "projects-limit-0": Bad(
        "projects", "GET", lambda w: "/projects", 422, query={"limit": "0"}, bad_field="limit"
    ),
    "projects-limit-201": Bad(
        "projects", "GET", lambda w: "/projects", 422, query={"limit": "201"}, bad_field="limit"
    ),
    "tasks-limit-0": Bad(
        "tasks", "GET", lambda w: "/tasks", 422, query={"limit": "0"}, bad_field="limit"
    ),
    "tasks-limit-201": Bad(
        "tasks", "GET", lambda w: "/tasks", 422, query={"limit": "201"}, bad_field="limit"
    ),
    "projects-unknown-sort": Bad(
        "projects", "GET", lambda w: "/projects", 422, query={"sort": "dueDate"}, bad_field="sort"
    ),
    "tasks-unknown-sort": Bad(
        "tasks", "GET", lambda w: "/tasks", 422, query={"sort": "-name"}, bad_field="sort"
    ),
    "projects-garbage-cursor": Bad(
        "projects",
        "GET",
        lambda w: "/projects",
        422,
        query={"cursor": "garbage!"},
        bad_field="cursor",
    ),
    "tasks-garbage-cursor": Bad(
        "tasks",
        "GET",
        lambda w: "/tasks",
        422,
        query={"cursor": "eyJzIjoiY3JlYXRlZEF0In0"},
        bad_field="cursor",
    ),
    "tasks-bad-project-filter": Bad(
        "tasks",
        "GET",
        lambda w: "/tasks",
        422,
        query={"projectId": "nope"},
        bad_field="projectId",
    ),
    # 70 KB bodies
    "project-70kb": Bad(
        "projects",
        "POST",
        lambda w: "/projects",
        413,
        lambda w: _json({"name": "x", "description": "x" * 70 * 1024}),
    ),
    "task-70kb": Bad("tasks", "POST", lambda w: "/tasks", 413, _big_task),
    "task-patch-70kb": Bad(
        "tasks", "PATCH", _task, 413, lambda w: _json({"description": "x" * 70 * 1024})
    ),
}


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_given_bad_input_then_a_problem_and_nothing_changes(db: Db, world: World, bad: Bad) -> None:
    # Given the project's owner, and what is stored
    before = stored_data(db)
    path = bad.path(world)

    # When they send the bad request
    response = FunctionApi(bad.function).request(
        bad.method, path, token=world.tokens["owner"], body=bad.body(world), query=bad.query
    )

    # Then it is the expected problem, and MongoDB is unchanged
    problem = problem_of(response, bad.status, path)
    if bad.status == 422:
        assert problem["errors"]
        assert all(set(error) == {"loc", "msg"} for error in problem["errors"])
    if bad.bad_field is not None:
        assert any(bad.bad_field in error["loc"] for error in problem["errors"]), problem
    assert stored_data(db) == before


def test_given_malformed_json_then_the_422_says_so(world: World, tasks: FunctionApi) -> None:
    response = tasks.request("POST", "/tasks", token=world.tokens["owner"], body=b"{oops")

    problem = problem_of(response, 422, "/tasks")
    assert any("JSON" in error["msg"] for error in problem["errors"])


def test_given_a_70kb_body_without_a_declared_length_then_413(
    db: Db, world: World, tasks: FunctionApi
) -> None:
    before = stored_data(db)

    response = tasks.request(
        "POST", "/tasks", token=world.tokens["owner"], body=_big_task(world), declare_length=False
    )

    assert problem_of(response, 413, "/tasks")["title"] == "Content Too Large"
    assert stored_data(db) == before


def _forged(token: str) -> str:
    """The token's own claims, signed with a key that is not the API's."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, ATTACKER_EC_KEY, algorithm="ES256", headers={"kid": api_kid()})


@pytest.mark.parametrize(
    ("function", "method", "path", "body"),
    [
        ("projects", "POST", lambda w: "/projects", lambda w: {"name": "x"}),
        ("projects", "DELETE", _project, lambda w: None),
        ("tasks", "PATCH", _task, lambda w: {"description": "forged"}),
        ("tasks", "GET", lambda w: "/tasks", lambda w: None),
    ],
    ids=["post-project", "delete-project", "patch-task", "list-tasks"],
)
def test_given_a_forged_token_then_401_with_a_bearer_challenge_and_nothing_changes(
    db: Db,
    world: World,
    function: str,
    method: str,
    path: Callable[[World], str],
    body: Callable[[World], dict[str, Any] | None],
) -> None:
    before = stored_data(db)

    response = FunctionApi(function).request(
        method, path(world), token=_forged(world.tokens["admin"]), json=body(world)
    )

    problem_of(response, 401, path(world))
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert stored_data(db) == before
