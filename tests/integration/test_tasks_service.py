"""TaskService against the real database: who writes which task, status rules, references.

Every refusal is checked twice: the error the caller gets, and the stored task (or the empty
collection) left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.factories import WITHOUT_OUTBOX, make_project, make_task, make_user
from tests.integration.races import write_right_after_the_first_read
from todo_common import container
from todo_common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from todo_common.principal import Principal, Role
from todo_common.records import Project, Task, User
from todo_common.repositories.tasks import NO_DUE_DATE, TaskRepository
from todo_common.schemas.tasks import TaskCreate, TaskPatch, TaskReplace
from todo_common.services.tasks import TaskService

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
DUE = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)


@pytest.fixture
def service(clean: None) -> TaskService:
    return container.task_service()


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id=f"session-of-{user.id}")


def stored(db: Db, task_id: str) -> dict[str, Any]:
    # Without the audit outbox: bookkeeping the background sender clears at its own pace.
    doc = db.tasks.find_one({"_id": ObjectId(task_id)}, WITHOUT_OUTBOX)
    assert doc is not None
    return doc


def create_body(project: Project, **fields: Any) -> TaskCreate:
    """A body as the API parses it from camelCase JSON."""
    return TaskCreate.model_validate({"projectId": project.id, "description": "Do it"} | fields)


def patch_body(**fields: Any) -> TaskPatch:
    return TaskPatch.model_validate(fields)


def loc_of(error: InvalidInput) -> list[list[str | int]]:
    return [list(e.loc) for e in error.errors]


class Team:
    """An ADMIN, a MANAGER owning a project, another MANAGER owning another, two USERs."""

    def __init__(self, db: Db) -> None:
        self.admin = make_user(db, role=Role.ADMIN)
        self.owner = make_user(db, role=Role.MANAGER)
        self.other_manager = make_user(db, role=Role.MANAGER)
        self.user = make_user(db)
        self.other_user = make_user(db)
        self.project = make_project(db, self.owner, name="Owned")
        self.foreign_project = make_project(db, self.other_manager, name="Foreign")


@pytest.fixture
def team(db: Db, clean: None) -> Team:
    return Team(db)


# -- creating ----------------------------------------------------------------------------------


def test_given_the_project_owner_when_they_create_a_task_then_it_is_pending_at_version_1(
    db: Db, service: TaskService, team: Team
) -> None:
    task = service.create(principal_of(team.owner), create_body(team.project))

    doc = stored(db, task.id)
    assert doc["projectId"] == team.project.id
    assert doc["description"] == "Do it"
    assert doc["status"] == "PENDING"
    assert doc["assignedTo"] is None
    assert doc["completedAt"] is None
    assert doc["dueDate"] is None
    assert doc["dueSort"] == NO_DUE_DATE
    assert doc["createdBy"] == team.owner.id
    assert doc["isActive"] is True
    assert doc["version"] == 1


def test_given_an_assignee_and_a_due_date_when_a_task_is_created_then_it_is_assigned(
    db: Db, service: TaskService, team: Team
) -> None:
    task = service.create(
        principal_of(team.owner),
        create_body(team.project, assignedTo=team.user.id, dueDate="2031-05-17T11:30:00+02:00"),
    )

    doc = stored(db, task.id)
    assert (doc["status"], doc["assignedTo"]) == ("ASSIGNED", team.user.id)
    assert doc["dueDate"] == DUE
    assert doc["dueSort"] == DUE


def test_given_an_admin_when_they_create_a_completed_task_in_anyones_project_then_it_is_dated(
    db: Db, service: TaskService, team: Team
) -> None:
    task = service.create(
        principal_of(team.admin), create_body(team.foreign_project, status="COMPLETED")
    )

    doc = stored(db, task.id)
    assert doc["status"] == "COMPLETED"
    assert doc["completedAt"] is not None
    assert doc["createdBy"] == team.admin.id


@pytest.mark.parametrize(
    ("fields", "assign"),
    [({"status": "ASSIGNED"}, False), ({"status": "PENDING"}, True)],
    ids=["assigned-without-assignee", "pending-with-assignee"],
)
def test_given_a_status_that_contradicts_the_assignee_when_creating_then_422_nothing_created(
    db: Db, service: TaskService, team: Team, fields: dict[str, Any], assign: bool
) -> None:
    if assign:
        fields = fields | {"assignedTo": team.user.id}

    with pytest.raises(InvalidInput) as caught:
        service.create(principal_of(team.owner), create_body(team.project, **fields))

    assert loc_of(caught.value) == [["body", "status"]]
    assert db.tasks.count_documents({}) == 0


@pytest.mark.parametrize("who", ["other_manager", "user"])
def test_given_someone_not_owning_the_project_when_they_create_a_task_then_403(
    db: Db, service: TaskService, team: Team, who: str
) -> None:
    caller: User = getattr(team, who)

    with pytest.raises(Forbidden):
        service.create(principal_of(caller), create_body(team.project))

    assert db.tasks.count_documents({}) == 0


@pytest.mark.parametrize(
    "bad_project",
    [
        lambda db, team: str(ObjectId()),
        lambda db, team: make_project(db, team.owner, is_active=False).id,
    ],
    ids=["unknown", "inactive"],
)
@pytest.mark.parametrize("who", ["owner", "user"])
def test_given_an_unknown_or_inactive_project_when_creating_then_422_before_any_403(
    db: Db,
    service: TaskService,
    team: Team,
    bad_project: Callable[[Db, Team], str],
    who: str,
) -> None:
    body = TaskCreate.model_validate({"projectId": bad_project(db, team), "description": "x"})

    with pytest.raises(InvalidInput) as caught:
        service.create(principal_of(getattr(team, who)), body)

    assert loc_of(caught.value) == [["body", "projectId"]]
    assert db.tasks.count_documents({}) == 0


@pytest.mark.parametrize(
    "bad_assignee",
    [lambda db: str(ObjectId()), lambda db: make_user(db, is_active=False).id],
    ids=["unknown", "inactive"],
)
def test_given_an_unknown_or_inactive_assignee_when_creating_then_422_nothing_created(
    db: Db, service: TaskService, team: Team, bad_assignee: Callable[[Db], str]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create(
            principal_of(team.owner), create_body(team.project, assignedTo=bad_assignee(db))
        )

    assert loc_of(caught.value) == [["body", "assignedTo"]]
    assert db.tasks.count_documents({}) == 0


# -- status rules ------------------------------------------------------------------------------


def test_given_a_task_when_it_goes_through_its_life_then_status_and_completed_at_follow(
    db: Db, service: TaskService, team: Team
) -> None:
    owner = principal_of(team.owner)
    task = make_task(db, team.project)

    def patch(**fields: Any) -> dict[str, Any]:
        service.update(owner, task.id, patch_body(**fields), if_match=None)
        return stored(db, task.id)

    # assigning makes it ASSIGNED
    doc = patch(assignedTo=team.user.id)
    assert (doc["status"], doc["assignedTo"], doc["version"]) == ("ASSIGNED", team.user.id, 2)
    # completing it dates it
    doc = patch(status="COMPLETED")
    assert (doc["status"], doc["version"]) == ("COMPLETED", 3)
    completed_at = doc["completedAt"]
    assert completed_at is not None
    # changing the assignee of a completed task does not reopen it
    doc = patch(assignedTo=team.other_user.id)
    assert (doc["status"], doc["assignedTo"], doc["completedAt"]) == (
        "COMPLETED",
        team.other_user.id,
        completed_at,
    )
    # reopening with the status that fits the assignee clears completedAt
    doc = patch(status="ASSIGNED")
    assert (doc["status"], doc["completedAt"]) == ("ASSIGNED", None)
    # removing the assignee makes it PENDING
    doc = patch(assignedTo=None)
    assert (doc["status"], doc["assignedTo"], doc["version"]) == ("PENDING", None, 6)


def test_given_a_completed_task_when_reopened_as_pending_then_completed_at_is_cleared(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project, completed=True)
    assert stored(db, task.id)["completedAt"] is not None

    service.update(principal_of(team.owner), task.id, patch_body(status="PENDING"), None)

    doc = stored(db, task.id)
    assert (doc["status"], doc["completedAt"], doc["version"]) == ("PENDING", None, 2)


@pytest.mark.parametrize(
    ("assigned", "fields"),
    [
        (False, {"status": "ASSIGNED"}),
        (True, {"status": "PENDING"}),
        (True, {"status": "ASSIGNED", "assignedTo": None}),
        (False, {"status": "PENDING", "assignedTo": "ASSIGNEE"}),
    ],
    ids=[
        "assigned-without-assignee",
        "pending-with-assignee",
        "assigned-while-unassigning",
        "pending-while-assigning",
    ],
)
def test_given_a_contradicting_status_when_updating_then_422_and_nothing_changes(
    db: Db, service: TaskService, team: Team, assigned: bool, fields: dict[str, Any]
) -> None:
    task = make_task(db, team.project, assignee=team.user if assigned else None)
    fields = {k: team.user.id if v == "ASSIGNEE" else v for k, v in fields.items()}
    before = stored(db, task.id)

    with pytest.raises(InvalidInput) as caught:
        service.update(principal_of(team.owner), task.id, patch_body(**fields), if_match=None)

    assert loc_of(caught.value) == [["body", "status"]]
    assert stored(db, task.id) == before


def test_given_a_put_without_assignee_or_due_date_then_both_are_cleared(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project, assignee=team.user, due_date=DUE)

    service.update(
        principal_of(team.owner),
        task.id,
        TaskReplace.model_validate(
            {"projectId": team.project.id, "description": "Replaced", "status": "PENDING"}
        ),
        if_match=1,
        replace=True,
    )

    doc = stored(db, task.id)
    assert (doc["description"], doc["status"], doc["assignedTo"]) == ("Replaced", "PENDING", None)
    assert (doc["dueDate"], doc["dueSort"], doc["version"]) == (None, NO_DUE_DATE, 2)


def test_given_an_update_that_changes_nothing_then_the_version_stays(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project, description="Same", assignee=team.user, due_date=DUE)

    service.update(
        principal_of(team.owner),
        task.id,
        patch_body(description="Same", assignedTo=team.user.id, status="ASSIGNED", dueDate=DUE),
        if_match=1,
    )

    assert stored(db, task.id)["version"] == 1


def test_given_a_stale_if_match_then_412_and_nothing_changes(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project)
    owner = principal_of(team.owner)
    service.update(owner, task.id, patch_body(description="v2"), if_match=1)
    before = stored(db, task.id)

    with pytest.raises(PreconditionFailed):
        service.update(owner, task.id, patch_body(description="v3"), if_match=1)
    with pytest.raises(PreconditionFailed):
        service.delete(owner, task.id, if_match=1)

    assert stored(db, task.id) == before


def test_given_no_if_match_when_another_write_lands_between_read_and_write_then_no_412(
    db: Db, service: TaskService, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the assignee completing their task without If-Match, while the owner edits the
    # description right after the service has read the task
    task = make_task(db, team.project, assignee=team.user, description="original")
    write_right_after_the_first_read(
        monkeypatch,
        TaskRepository,
        lambda: TaskRepository(db, container.server()).update(
            task.id, {"description": "edited by the owner"}
        ),
    )

    # When the assignee's PATCH is applied
    try:
        service.update(principal_of(team.user), task.id, patch_body(status="COMPLETED"), None)
    except DomainError as exc:
        # Then (SPEC §6: 412 is for an If-Match mismatch) the assignee, who sent no If-Match,
        # does not get a 412: the users service retries such a lost race on the fresh record
        pytest.fail(f"a PATCH without If-Match was answered {exc.status}: {exc.detail}")

    # and both writes are kept
    doc = stored(db, task.id)
    assert (doc["status"], doc["description"], doc["version"]) == (
        "COMPLETED",
        "edited by the owner",
        3,
    )


# -- the assignee ------------------------------------------------------------------------------


def test_given_the_assignee_when_they_complete_their_task_then_it_is_completed(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project, assignee=team.user, description="Mine")

    # sending a field with its current value along is not a change
    service.update(
        principal_of(team.user),
        task.id,
        patch_body(status="COMPLETED", description="Mine", assignedTo=team.user.id),
        if_match=1,
    )

    doc = stored(db, task.id)
    assert (doc["status"], doc["assignedTo"], doc["version"]) == ("COMPLETED", team.user.id, 2)
    assert doc["completedAt"] is not None


@pytest.mark.parametrize(
    "other_field",
    [
        {"description": "Rewritten"},
        {"dueDate": "2031-01-01T00:00:00Z"},
        {"assignedTo": None},
        {"assignedTo": "OTHER_USER"},
        {"projectId": "OTHER_PROJECT"},
    ],
    ids=["description", "due-date", "unassign", "reassign", "move"],
)
def test_given_the_assignee_when_they_change_another_field_then_403_and_nothing_changes(
    db: Db, service: TaskService, team: Team, other_field: dict[str, Any]
) -> None:
    task = make_task(db, team.project, assignee=team.user)
    other_project = make_project(db, team.owner)
    replace = {"OTHER_USER": team.other_user.id, "OTHER_PROJECT": other_project.id}
    fields = {k: replace.get(v, v) if isinstance(v, str) else v for k, v in other_field.items()}
    before = stored(db, task.id)

    with pytest.raises(Forbidden) as caught:
        service.update(
            principal_of(team.user), task.id, patch_body(status="COMPLETED", **fields), None
        )

    assert "status only" in caught.value.detail
    assert stored(db, task.id) == before


@pytest.mark.parametrize("who", ["other_user", "other_manager"])
def test_given_someone_neither_owner_nor_assignee_when_they_update_then_403(
    db: Db, service: TaskService, team: Team, who: str
) -> None:
    task = make_task(db, team.project, assignee=team.user)
    before = stored(db, task.id)

    with pytest.raises(Forbidden):
        service.update(
            principal_of(getattr(team, who)), task.id, patch_body(status="COMPLETED"), None
        )

    assert stored(db, task.id) == before


@pytest.mark.parametrize(
    "bad_assignee",
    [lambda db: str(ObjectId()), lambda db: make_user(db, is_active=False).id],
    ids=["unknown", "inactive"],
)
def test_given_an_unknown_or_inactive_assignee_when_updating_then_422_unchanged(
    db: Db, service: TaskService, team: Team, bad_assignee: Callable[[Db], str]
) -> None:
    task = make_task(db, team.project)
    before = stored(db, task.id)

    with pytest.raises(InvalidInput) as caught:
        service.update(
            principal_of(team.owner), task.id, patch_body(assignedTo=bad_assignee(db)), None
        )

    assert loc_of(caught.value) == [["body", "assignedTo"]]
    assert stored(db, task.id) == before


# -- moving ------------------------------------------------------------------------------------


def test_given_the_owner_of_both_projects_when_they_move_a_task_then_it_moves(
    db: Db, service: TaskService, team: Team
) -> None:
    second = make_project(db, team.owner, name="Second")
    task = make_task(db, team.project)

    service.update(principal_of(team.owner), task.id, patch_body(projectId=second.id), 1)

    doc = stored(db, task.id)
    assert (doc["projectId"], doc["version"]) == (second.id, 2)


def test_given_a_manager_when_they_move_a_task_into_a_project_of_another_then_403_unchanged(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project)
    before = stored(db, task.id)

    with pytest.raises(Forbidden):
        service.update(
            principal_of(team.owner),
            task.id,
            patch_body(projectId=team.foreign_project.id, description="moved"),
            None,
        )

    assert stored(db, task.id) == before


def test_given_a_manager_when_they_move_a_task_out_of_a_project_of_another_then_403(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.foreign_project)
    before = stored(db, task.id)

    with pytest.raises(Forbidden):
        service.update(
            principal_of(team.owner), task.id, patch_body(projectId=team.project.id), None
        )

    assert stored(db, task.id) == before


@pytest.mark.parametrize(
    "target",
    [
        lambda db, team: str(ObjectId()),
        lambda db, team: make_project(db, team.owner, is_active=False).id,
    ],
    ids=["unknown", "inactive"],
)
def test_given_a_move_into_an_unknown_or_inactive_project_then_422_unchanged(
    db: Db, service: TaskService, team: Team, target: Callable[[Db, Team], str]
) -> None:
    task = make_task(db, team.project)
    before = stored(db, task.id)

    with pytest.raises(InvalidInput) as caught:
        service.update(
            principal_of(team.owner), task.id, patch_body(projectId=target(db, team)), None
        )

    assert loc_of(caught.value) == [["body", "projectId"]]
    assert stored(db, task.id) == before


def test_given_an_admin_when_they_move_a_task_between_anyones_projects_then_it_moves(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project)

    service.update(
        principal_of(team.admin), task.id, patch_body(projectId=team.foreign_project.id), None
    )

    assert stored(db, task.id)["projectId"] == team.foreign_project.id


# -- deleting, restoring, visibility -------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_manager", "user"])
def test_given_someone_not_owning_the_project_when_they_delete_or_restore_then_403(
    db: Db, service: TaskService, team: Team, who: str
) -> None:
    live = make_task(db, team.project, assignee=team.user)
    gone = make_task(db, team.project, is_active=False)
    caller = principal_of(getattr(team, who))
    before = [stored(db, live.id), stored(db, gone.id)]

    with pytest.raises(Forbidden):
        service.delete(caller, live.id, if_match=None)
    with pytest.raises(NotFound):  # an inactive task is not even visible to them
        service.restore(caller, gone.id, if_match=None)

    assert [stored(db, live.id), stored(db, gone.id)] == before


def test_given_the_owner_when_they_delete_and_restore_a_task_then_it_is_soft_deleted_and_back(
    db: Db, service: TaskService, team: Team
) -> None:
    task = make_task(db, team.project, assignee=team.user)
    owner = principal_of(team.owner)

    service.delete(owner, task.id, if_match=1)
    doc = stored(db, task.id)
    assert (doc["isActive"], doc["version"], doc["cascadeId"]) == (False, 2, None)

    # deleting again changes nothing
    service.delete(owner, task.id, if_match=None)
    assert stored(db, task.id)["version"] == 2

    restored = service.restore(owner, task.id, if_match=2)
    assert (restored.is_active, restored.version) == (True, 3)
    doc = stored(db, task.id)
    assert (doc["isActive"], doc["version"], doc["assignedTo"]) == (True, 3, team.user.id)


def test_given_a_task_of_a_deleted_project_when_restored_then_409_unchanged(
    db: Db, service: TaskService, team: Team
) -> None:
    project = make_project(db, team.owner, is_active=False)
    task = make_task(db, project, is_active=False)
    before = stored(db, task.id)

    with pytest.raises(Conflict):
        service.restore(principal_of(team.owner), task.id, if_match=None)

    assert stored(db, task.id) == before


@pytest.fixture
def deleted_task(db: Db, team: Team) -> Task:
    return make_task(db, team.project, assignee=team.user, is_active=False)


@pytest.mark.parametrize("who", ["user", "other_manager", "other_user"])
def test_given_an_inactive_task_then_everyone_else_gets_404_even_its_assignee(
    db: Db, service: TaskService, team: Team, deleted_task: Task, who: str
) -> None:
    caller = principal_of(getattr(team, who))
    before = stored(db, deleted_task.id)

    with pytest.raises(NotFound):
        service.get(caller, deleted_task.id)
    with pytest.raises(NotFound):
        service.update(caller, deleted_task.id, patch_body(status="COMPLETED"), None)

    assert stored(db, deleted_task.id) == before


@pytest.mark.parametrize("who", ["admin", "owner"])
def test_given_an_inactive_task_then_an_admin_and_the_project_owner_see_it(
    service: TaskService, team: Team, deleted_task: Task, who: str
) -> None:
    task = service.get(principal_of(getattr(team, who)), deleted_task.id)

    assert (task.id, task.is_active) == (deleted_task.id, False)


def test_given_a_malformed_or_unknown_id_then_404(service: TaskService, team: Team) -> None:
    admin = principal_of(team.admin)

    for task_id in ("not-an-id", str(ObjectId()), "g" * 24):
        with pytest.raises(NotFound):
            service.get(admin, task_id)
        with pytest.raises(NotFound):
            service.delete(admin, task_id, if_match=None)
