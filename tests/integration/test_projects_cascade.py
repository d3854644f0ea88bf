"""What deleting a project or a user does to the tasks: the cascades, and finishing a broken one.

A project delete tags the tasks it takes down with its `cascadeId`; the restore brings back
exactly those. Both are two writes without a transaction, so a retry must finish the job.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.factories import make_project, make_task, make_user, settle_audit_sends
from todo_common import container
from todo_common.errors import Conflict
from todo_common.principal import Principal, Role
from todo_common.records import Project, Task, User
from todo_common.schemas.users import UserPatch

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id=f"session-of-{user.id}")


def task_doc(db: Db, task: Task) -> dict[str, Any]:
    doc = db.tasks.find_one({"_id": ObjectId(task.id)})
    assert doc is not None
    return doc


def project_doc(db: Db, project: Project) -> dict[str, Any]:
    doc = db.projects.find_one({"_id": ObjectId(project.id)})
    assert doc is not None
    return doc


def states(db: Db, tasks: list[Task]) -> list[tuple[bool, int]]:
    """(isActive, version) of each task, in order."""
    return [(task_doc(db, t)["isActive"], task_doc(db, t)["version"]) for t in tasks]


class Board:
    """A MANAGER's project with three live tasks and one deleted on its own; another project."""

    def __init__(self, db: Db) -> None:
        self.owner = make_user(db, role=Role.MANAGER)
        self.assignee = make_user(db)
        self.project = make_project(db, self.owner, name="Doomed")
        self.live = [
            make_task(db, self.project),
            make_task(db, self.project, assignee=self.assignee),
            make_task(db, self.project, assignee=self.assignee, completed=True),
        ]
        self.deleted_alone = make_task(db, self.project, is_active=False)
        self.elsewhere = make_task(db, make_project(db, self.owner, name="Safe"))


@pytest.fixture
def board(db: Db, clean: None) -> Board:
    return Board(db)


def test_given_a_project_when_its_owner_deletes_it_then_its_active_tasks_go_with_it(
    db: Db, board: Board
) -> None:
    # When the owner deletes the project
    container.project_service().delete(principal_of(board.owner), board.project.id, if_match=1)

    # Then the project is inactive, one version on, tagged with the delete
    project = project_doc(db, board.project)
    assert (project["isActive"], project["version"]) == (False, 2)
    cascade_id = project["cascadeId"]
    assert cascade_id
    # and each of its active tasks is inactive, one version on, tagged with the same delete
    assert states(db, board.live) == [(False, 2)] * 3
    assert {task_doc(db, t)["cascadeId"] for t in board.live} == {cascade_id}
    # and the task deleted before, and the other project's task, are untouched
    alone = task_doc(db, board.deleted_alone)
    assert (alone["isActive"], alone["version"], alone["cascadeId"]) == (False, 1, None)
    assert states(db, [board.elsewhere]) == [(True, 1)]
    # and the assignments and statuses are kept for the restore
    assert [task_doc(db, t)["status"] for t in board.live] == ["PENDING", "ASSIGNED", "COMPLETED"]


def test_given_a_deleted_project_when_it_is_restored_then_exactly_the_cascaded_tasks_return(
    db: Db, board: Board
) -> None:
    service = container.project_service()
    owner = principal_of(board.owner)
    service.delete(owner, board.project.id, if_match=None)

    # When the owner restores it
    restored = service.restore(owner, board.project.id, if_match=2)

    # Then the project is active again (version 3) and no longer carries the delete's tag
    assert (restored.is_active, restored.version) == (True, 3)
    project = project_doc(db, board.project)
    assert (project["isActive"], project["version"], project["cascadeId"]) == (True, 3, None)
    # and the tasks the delete took are back, each one more version on, untagged
    assert states(db, board.live) == [(True, 3)] * 3
    assert {task_doc(db, t)["cascadeId"] for t in board.live} == {None}
    # and the task deleted on its own before stays deleted
    assert states(db, [board.deleted_alone]) == [(False, 1)]


def test_given_a_task_deleted_inside_a_deleted_project_then_a_restore_brings_it_back_too(
    db: Db, board: Board
) -> None:
    # Given a deleted project, and a second delete of one of its (already inactive) tasks
    service = container.project_service()
    owner = principal_of(board.owner)
    service.delete(owner, board.project.id, if_match=None)
    container.task_service().delete(owner, board.live[0].id, if_match=None)

    # When the project is restored
    service.restore(owner, board.project.id, if_match=None)

    # Then that task returns with the others: it went down with the project
    assert states(db, board.live) == [(True, 3)] * 3


def test_given_a_delete_interrupted_before_the_tasks_when_retried_then_the_cascade_completes(
    db: Db, board: Board
) -> None:
    # Given a delete that stopped after writing the project: inactive and tagged, tasks active
    settle_audit_sends()  # a background outbox clear must not overwrite this
    db.projects.update_one(
        {"_id": ObjectId(board.project.id)},
        {"$set": {"isActive": False, "cascadeId": "interrupted-delete"}, "$inc": {"version": 1}},
    )

    # When the DELETE is retried
    container.project_service().delete(principal_of(board.owner), board.project.id, None)

    # Then the tasks go down, tagged with that first delete, and the project is not written again
    assert states(db, board.live) == [(False, 2)] * 3
    assert {task_doc(db, t)["cascadeId"] for t in board.live} == {"interrupted-delete"}
    project = project_doc(db, board.project)
    assert (project["isActive"], project["version"]) == (False, 2)
    assert project["cascadeId"] == "interrupted-delete"
    assert states(db, [board.deleted_alone, board.elsewhere]) == [(False, 1), (True, 1)]

    # and the restore then brings back exactly those
    container.project_service().restore(principal_of(board.owner), board.project.id, None)
    assert states(db, board.live) == [(True, 3)] * 3
    assert states(db, [board.deleted_alone]) == [(False, 1)]


def test_given_a_cascade_that_missed_one_task_when_the_delete_is_retried_then_it_catches_it(
    db: Db, board: Board
) -> None:
    # Given a deleted project one of whose tasks is still active, with the delete's tag
    service = container.project_service()
    service.delete(principal_of(board.owner), board.project.id, if_match=None)
    cascade_id = project_doc(db, board.project)["cascadeId"]
    straggler = board.live[1]
    settle_audit_sends()  # a background outbox clear must not overwrite this
    db.tasks.update_one({"_id": ObjectId(straggler.id)}, {"$set": {"isActive": True}})

    # When the DELETE is retried
    service.delete(principal_of(board.owner), board.project.id, if_match=None)

    # Then that task is inactive too, tagged, one version on; the others are not written again
    doc = task_doc(db, straggler)
    assert (doc["isActive"], doc["cascadeId"], doc["version"]) == (False, cascade_id, 3)
    assert states(db, [board.live[0], board.live[2]]) == [(False, 2)] * 2
    assert project_doc(db, board.project)["version"] == 2


def test_given_a_restore_interrupted_before_the_tasks_when_retried_then_they_come_back(
    db: Db, board: Board
) -> None:
    # Given a restore that stopped after writing the project: active, still tagged
    service = container.project_service()
    service.delete(principal_of(board.owner), board.project.id, if_match=None)
    settle_audit_sends()  # a background outbox clear must not overwrite this
    db.projects.update_one(
        {"_id": ObjectId(board.project.id)},
        {"$set": {"isActive": True}, "$inc": {"version": 1}},
    )

    # When the restore is retried
    restored = service.restore(principal_of(board.owner), board.project.id, if_match=3)

    # Then the tasks return and the tag is gone; the project is not written again
    assert restored.version == 3
    assert states(db, board.live) == [(True, 3)] * 3
    assert project_doc(db, board.project)["cascadeId"] is None
    assert states(db, [board.deleted_alone]) == [(False, 1)]


def test_given_a_deleted_project_when_one_of_its_tasks_is_restored_then_409_unchanged(
    db: Db, board: Board
) -> None:
    # Given a deleted project
    owner = principal_of(board.owner)
    container.project_service().delete(owner, board.project.id, if_match=None)
    before = [task_doc(db, t) for t in board.live]

    # When its owner (or an ADMIN) restores one of its tasks
    admin = principal_of(make_user(db, role=Role.ADMIN))
    for caller in (owner, admin):
        with pytest.raises(Conflict) as caught:
            container.task_service().restore(caller, board.live[0].id, if_match=None)
        # Then it is a 409 that says to restore the project first
        assert "project" in caught.value.detail

    # and nothing changed
    assert [task_doc(db, t) for t in board.live] == before


# -- users leaving -----------------------------------------------------------------------------


class Assignments:
    """A USER with two open tasks and one completed, some of them in a deleted project; a
    colleague with an open task."""

    def __init__(self, db: Db) -> None:
        self.admin = make_user(db, role=Role.ADMIN)
        self.leaver = make_user(db)
        self.colleague = make_user(db)
        owner = make_user(db, role=Role.MANAGER)
        project = make_project(db, owner)
        self.open = [
            make_task(db, project, assignee=self.leaver),
            make_task(db, make_project(db, owner), assignee=self.leaver, is_active=False),
        ]
        self.completed = make_task(db, project, assignee=self.leaver, completed=True)
        self.colleagues = make_task(db, project, assignee=self.colleague)


@pytest.mark.parametrize("how", ["delete", "patch-is-active-false"])
def test_given_a_user_with_tasks_when_they_are_deleted_or_deactivated_then_open_tasks_return(
    db: Db, clean: None, how: str
) -> None:
    given = Assignments(db)
    users = container.user_service()
    admin = principal_of(given.admin)
    completed_before = task_doc(db, given.completed)

    # When an ADMIN deletes the user, or deactivates them with PATCH isActive=false
    if how == "delete":
        users.delete(admin, given.leaver.id, if_match=None)
    else:
        users.update(
            admin, given.leaver.id, UserPatch(is_active=False), if_match=None, client_ip="test"
        )

    # Then the user is inactive
    leaver = db.users.find_one({"_id": ObjectId(given.leaver.id)})
    assert leaver is not None
    assert (leaver["isActive"], leaver["version"]) == (False, 2)
    # and their open tasks are PENDING with nobody assigned, one version on
    for task in given.open:
        doc = task_doc(db, task)
        assert (doc["status"], doc["assignedTo"], doc["version"]) == ("PENDING", None, 2)
        assert doc["isActive"] is task.is_active
    # and their completed task keeps them as its assignee (history), untouched
    assert task_doc(db, given.completed) == completed_before
    # and a colleague's task is untouched
    colleagues = task_doc(db, given.colleagues)
    assert (colleagues["assignedTo"], colleagues["version"]) == (given.colleague.id, 1)


def test_given_a_user_who_deletes_themselves_then_their_open_tasks_return_too(
    db: Db, clean: None
) -> None:
    given = Assignments(db)

    container.user_service().delete(principal_of(given.leaver), given.leaver.id, if_match=1)

    doc = task_doc(db, given.open[0])
    assert (doc["status"], doc["assignedTo"]) == ("PENDING", None)
    assert task_doc(db, given.completed)["assignedTo"] == given.leaver.id
