"""The projects and tasks rows of SPEC §5, generated from `todo_common.rbac.POLICY`, over HTTP.

For every PROJECTS_* and TASKS_* action, every role and every standing towards a fresh record (a
project the caller owns or another MANAGER's; for TASKS_UPDATE also as the task's assignee or
not), the expectation is `allows(POLICY[action][role], relations)`, and every request of the
action must answer accordingly: its success status (and a change to the stored data, for a
write), or a refusal that changes nothing. `ENDPOINTS`, which turns an action into requests, is
the only hand-written part; an action without an entry there fails the suite.

A caller of any role may own a project here: a MANAGER demoted to USER keeps the projects they
own, and the table still decides what they may do with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, projects_and_tasks
from tests.factories import make_project, make_task, make_user
from todo_common.models import Project, Role, Task, User
from todo_common.rbac import POLICY, Action, Grant, Relation, allows

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
PREFIXES = ("PROJECTS_", "TASKS_")


@dataclass(frozen=True)
class World:
    """What one request is made against: the caller, two bystanders and the target record."""

    caller: User
    other_manager: User  # owns the projects that are not the caller's
    other_user: User  # the assignee of tasks not assigned to the caller
    project: Project | None
    task: Task | None


Body = Callable[[World], dict[str, Any] | None]


def _no_body(_: World) -> None:
    return None


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


@dataclass(frozen=True)
class Call:
    """One request of an action; `{project}` and `{task}` in the path are the target's ids."""

    method: str
    path: str
    success: int
    body: Body = _no_body
    deleted_target: bool = False  # the target starts soft-deleted (there is something to restore)
    # Grants that let the action through but not this request (e.g. the assignee's status-only
    # grant and a description change): under them it is refused although `allows` is true.
    beyond: frozenset[Grant] = frozenset()


class Target(StrEnum):
    NONE = "none"  # create/list: no record, so no ownership standing
    PROJECT = "project"
    TASK = "task"


@dataclass(frozen=True)
class Endpoints:
    calls: tuple[Call, ...]
    target: Target
    by_assignee: bool = False  # also vary whether the caller is the task's assignee


# The one hand-written table: which requests exercise each action.
ENDPOINTS: Final[Mapping[Action, Endpoints]] = {
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
        Target.NONE,
    ),
    Action.PROJECTS_READ: Endpoints(
        (Call("GET", "/projects", 200), Call("GET", "/projects/{project}", 200)), Target.PROJECT
    ),
    Action.PROJECTS_WRITE: Endpoints(
        (
            Call("PUT", "/projects/{project}", 200, _project_replacement),
            Call("PATCH", "/projects/{project}", 200, _project_patch),
            Call("DELETE", "/projects/{project}", 204),
            Call("POST", "/projects/{project}/restore", 200, deleted_target=True),
        ),
        Target.PROJECT,
    ),
    Action.TASKS_CREATE: Endpoints((Call("POST", "/tasks", 201, _new_task),), Target.PROJECT),
    Action.TASKS_READ: Endpoints(
        (Call("GET", "/tasks", 200), Call("GET", "/tasks/{task}", 200)), Target.TASK
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
        Target.TASK,
        by_assignee=True,
    ),
    Action.TASKS_DELETE: Endpoints(
        (
            Call("DELETE", "/tasks/{task}", 204),
            Call("POST", "/tasks/{task}/restore", 200, deleted_target=True),
        ),
        Target.TASK,
    ),
}

ACTIONS = [action for action in POLICY if action.name.startswith(PREFIXES)]


@dataclass(frozen=True)
class Standing:
    """How the caller stands to the target: no record, or owner of its project or not, and (for
    a task) its assignee or not."""

    owner: bool | None = None
    assignee: bool = False
    relations: frozenset[Relation] = field(init=False)

    def __post_init__(self) -> None:
        relations = {Relation.OWNER} if self.owner else set()
        if self.assignee:
            relations.add(Relation.ASSIGNEE)
        object.__setattr__(self, "relations", frozenset(relations))

    def __str__(self) -> str:
        if self.owner is None:
            return "no-record"
        project = "own-project" if self.owner else "others-project"
        return f"{project}-assignee" if self.assignee else project


def _standings(action: Action) -> list[Standing]:
    endpoints = ENDPOINTS.get(action)
    if endpoints is not None and endpoints.target is Target.NONE:
        return [Standing()]
    assignee = [False, True] if endpoints is not None and endpoints.by_assignee else [False]
    return [Standing(owner, a) for owner in (True, False) for a in assignee]


CASES = [
    pytest.param(action, role, standing, id=f"{action.name}-{role}-{standing}")
    for action in ACTIONS
    for role in Role
    for standing in _standings(action)
]


def _expected_allowed(action: Action, role: Role, standing: Standing, call: Call) -> bool:
    grant = POLICY[action][role]
    return allows(grant, standing.relations) and grant not in call.beyond


def _refusal_status(role: Role, standing: Standing, call: Call) -> int:
    """403, except for a deleted record the caller may not even see (SPEC §5: inactive records
    are visible only to ADMIN and to the project's owner; to everyone else they are 404)."""
    hidden = call.deleted_target and role is not Role.ADMIN and not standing.owner
    return 404 if hidden else 403


def _world(
    db: Database[dict[str, Any]],
    caller: User,
    endpoints: Endpoints,
    standing: Standing,
    call: Call,
) -> World:
    """Fresh records for one request, standing towards the caller as `standing` says."""
    other_manager = make_user(db, role=Role.MANAGER)
    other_user = make_user(db, role=Role.USER)
    project: Project | None = None
    task: Task | None = None
    if endpoints.target is not Target.NONE:
        owner = caller if standing.owner else other_manager
        project_deleted = call.deleted_target and endpoints.target is Target.PROJECT
        project = make_project(db, owner, is_active=not project_deleted)
        # every project holds a task, so a delete's cascade (or a refusal's lack of one) shows
        bystander = make_task(db, project, assignee=other_user, is_active=not project_deleted)
        task = bystander
        if endpoints.target is Target.TASK:
            task = make_task(
                db,
                project,
                assignee=caller if standing.assignee else other_user,
                is_active=not call.deleted_target,
            )
    return World(caller, other_manager, other_user, project, task)


def test_every_projects_and_tasks_action_has_a_policy_row_and_endpoints() -> None:
    """An action added to `Action` without a POLICY row or an ENDPOINTS entry fails here."""
    actions = {action for action in Action if action.name.startswith(PREFIXES)}

    assert {a.name.split("_")[0] for a in actions} == {"PROJECTS", "TASKS"}
    assert actions - POLICY.keys() == set(), "actions without a POLICY row"
    assert actions - ENDPOINTS.keys() == set(), "actions without requests in ENDPOINTS"
    assert ENDPOINTS.keys() - actions == set(), "ENDPOINTS maps actions that do not exist"
    for action in actions:
        assert POLICY[action].keys() == set(Role), f"{action.name} lacks a role"


def test_the_matrix_exercises_both_outcomes_and_the_restricted_grants() -> None:
    """Guards the generator: a table that only ever expects 2xx (or 403) proves nothing."""
    outcomes = {
        (_expected_allowed(action, role, standing, call), call.beyond != frozenset())
        for action, endpoints in ENDPOINTS.items()
        for role in Role
        for standing in _standings(action)
        for call in endpoints.calls
    }

    assert {(True, False), (False, False), (True, True), (False, True)} <= outcomes


@pytest.mark.parametrize(("action", "role", "standing"), CASES)
def test_given_role_and_standing_when_calling_the_action_then_the_policy_decides(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    action: Action,
    role: Role,
    standing: Standing,
) -> None:
    endpoints = ENDPOINTS.get(action)
    if endpoints is None:
        pytest.fail(f"{action.name} has no requests in ENDPOINTS; add them")
    caller, headers = user_with_token(role)

    for call in endpoints.calls:
        world = _world(db, caller, endpoints, standing, call)
        path = call.path.format(
            project=world.project.id if world.project else "",
            task=world.task.id if world.task else "",
        )
        before = projects_and_tasks(db)

        response = client.request(call.method, path, json=call.body(world), headers=headers)

        label = f"{role} {standing} {call.method} {call.path} {call.body(world)}"
        if _expected_allowed(action, role, standing, call):
            assert response.status_code == call.success, (
                f"{label}: POLICY allows it, got {response.status_code} {response.text}"
            )
            if call.method != "GET":
                assert projects_and_tasks(db) != before, f"{label}: succeeded but changed nothing"
        else:
            assert_problem(response, _refusal_status(role, standing, call))
            assert projects_and_tasks(db) == before, f"{label}: refused but changed the data"
