"""The projects and tasks rows of SPEC §5, generated from `todo_common.rbac.POLICY`, over HTTP.

For every PROJECTS_* and TASKS_* action, every role and every standing towards a fresh record (a
project the caller owns or another MANAGER's; for TASKS_UPDATE also as the task's assignee or
not), the expectation is `allows(POLICY[action][role], relations)`, and every request of the
action must answer accordingly: its success status (and a change to the stored data, for a
write), or a refusal that changes nothing (`tests.e2e.rbac_matrix` runs it). `ENDPOINTS`, which
turns an action into requests, is the hand-written part; an action without an entry there fails
the suite.

A caller of any role may own a project here: a MANAGER demoted to USER keeps the projects they
own, and the table still decides what they may do with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest
from pymongo.database import Database

from tests.e2e.rbac_matrix import (
    NO_RECORD,
    Endpoints,
    PolicyMatrix,
    PolicyMatrixTests,
    Standing,
    towards_a_project,
)
from tests.e2e.rbac_matrix import Call as GenericCall
from tests.e2e.support import projects_and_tasks
from tests.factories import make_project, make_task, make_user
from todo_common.principal import Role
from todo_common.rbac import Action, Grant, Resource
from todo_common.records import Project, Task, User

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class World:
    """What one request is made against: the caller, two bystanders and the target record."""

    caller: User
    other_manager: User  # owns the projects that are not the caller's
    other_user: User  # the assignee of tasks not assigned to the caller
    project: Project | None
    task: Task | None

    def ids(self) -> dict[str, str]:
        return {
            "project": self.project.id if self.project else "",
            "task": self.task.id if self.task else "",
        }


Call = GenericCall[World]


def _project(world: World) -> Project:
    assert world.project is not None
    return world.project


def _task(world: World) -> Task:
    assert world.task is not None
    return world.task


def _new_project(_: World) -> dict[str, Any]:
    return {"name": "Made by RBAC", "description": "matrix"}


def _new_project_owned_by_caller(world: World) -> dict[str, Any]:
    return {"name": "Mine by name", "ownerId": world.caller.id}


def _new_project_owned_by_another_manager(world: World) -> dict[str, Any]:
    return {"name": "For someone else", "ownerId": world.other_manager.id}


def _project_replacement(world: World) -> dict[str, Any]:
    return {"name": f"{_project(world).name} (replaced)", "description": "Replaced"}


def _project_patch(_: World) -> dict[str, Any]:
    return {"description": "Patched"}


def _new_task(world: World) -> dict[str, Any]:
    return {"projectId": _project(world).id, "description": "Made by RBAC"}


def _complete(_: World) -> dict[str, Any]:
    return {"status": "COMPLETED"}


def _task_replacement_completing(world: World) -> dict[str, Any]:
    """The task as read, with only its status changed: a status-only PUT."""
    task = _task(world)
    return {
        "projectId": task.project_id,
        "description": task.description,
        "assignedTo": task.assigned_to,
        "status": "COMPLETED",
    }


def _reword(_: World) -> dict[str, Any]:
    return {"description": "Reworded by RBAC"}


_PROJECT = towards_a_project(Resource.PROJECT)
_TASK = towards_a_project(Resource.TASK)

# The one hand-written table: which requests exercise each action, and about which record.
ENDPOINTS: Final[Mapping[Action, Endpoints[World]]] = {
    Action.PROJECTS_CREATE: Endpoints(
        (
            Call("POST", "/projects", 201, _new_project),
            Call("POST", "/projects", 201, _new_project_owned_by_caller),
            Call(
                "POST",
                "/projects",
                201,
                _new_project_owned_by_another_manager,
                beyond=frozenset({Grant.SELF_OWNED}),
            ),
        ),
        NO_RECORD,
    ),
    Action.PROJECTS_READ: Endpoints(
        (Call("GET", "/projects", 200), Call("GET", "/projects/{project}", 200)), _PROJECT
    ),
    Action.PROJECTS_WRITE: Endpoints(
        (
            Call("PUT", "/projects/{project}", 200, _project_replacement),
            Call("PATCH", "/projects/{project}", 200, _project_patch),
            Call("DELETE", "/projects/{project}", 204),
            Call("POST", "/projects/{project}/restore", 200, deleted_target=True),
        ),
        _PROJECT,
    ),
    Action.TASKS_CREATE: Endpoints((Call("POST", "/tasks", 201, _new_task),), _PROJECT),
    Action.TASKS_READ: Endpoints(
        (Call("GET", "/tasks", 200), Call("GET", "/tasks/{task}", 200)), _TASK
    ),
    Action.TASKS_UPDATE: Endpoints(
        (
            Call("PATCH", "/tasks/{task}", 200, _complete),
            Call("PUT", "/tasks/{task}", 200, _task_replacement_completing),
            Call(
                "PATCH",
                "/tasks/{task}",
                200,
                _reword,
                beyond=frozenset({Grant.ASSIGNEE_STATUS}),
            ),
        ),
        towards_a_project(Resource.TASK, by_assignee=True),
    ),
    Action.TASKS_DELETE: Endpoints(
        (
            Call("DELETE", "/tasks/{task}", 204),
            Call("POST", "/tasks/{task}/restore", 200, deleted_target=True),
        ),
        _TASK,
    ),
}


def _refusal_status(role: Role, standing: Standing, call: Call) -> int:
    """403, except for a deleted record the caller may not even see (SPEC §5: inactive records
    are visible only to ADMIN and to the project's owner; to everyone else they are 404)."""
    hidden = call.deleted_target and role is not Role.ADMIN and not standing.owner
    return 404 if hidden else 403


def _world(db: Database[dict[str, Any]], caller: User, standing: Standing, call: Call) -> World:
    """Fresh records for one request, standing towards the caller as `standing` says."""
    other_manager = make_user(db, role=Role.MANAGER)
    other_user = make_user(db, role=Role.USER)
    project: Project | None = None
    task: Task | None = None
    if standing.about is not None:
        owner = caller if standing.owner else other_manager
        project_deleted = call.deleted_target and standing.about is Resource.PROJECT
        project = make_project(db, owner, is_active=not project_deleted)
        # every project holds a task, so a delete's cascade (or a refusal's lack of one) shows
        bystander = make_task(db, project, assignee=other_user, is_active=not project_deleted)
        task = bystander
        if standing.about is Resource.TASK:
            task = make_task(
                db,
                project,
                assignee=caller if standing.assignee else other_user,
                is_active=not call.deleted_target,
            )
    return World(caller, other_manager, other_user, project, task)


class TestProjectsAndTasksRows(PolicyMatrixTests):
    matrix = PolicyMatrix(
        ("PROJECTS_", "TASKS_"),
        ENDPOINTS,
        world=_world,
        state=projects_and_tasks,
        refusal_status=_refusal_status,
        writes_change_state=True,
    )
