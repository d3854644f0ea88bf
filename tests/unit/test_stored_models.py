"""A record's fields are listed once, in its model: storage, audit diff and wire derive from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from todo_common.audit.events import updated
from todo_common.principal import Role
from todo_common.records import Project, Task, TaskStatus, User
from todo_common.schemas.projects import ProjectPublic
from todo_common.schemas.tasks import TaskPublic
from todo_common.schemas.users import UserPublic

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _task_document() -> dict[str, object]:
    return {
        "_id": ObjectId("0123456789abcdef01234567"),
        "projectId": "0123456789abcdef01234568",
        "description": "Write the report",
        "assignedTo": None,
        "status": "PENDING",
        "dueDate": NOW,
        "completedAt": None,
        "createdBy": "0123456789abcdef01234569",
        "isActive": True,
        "version": 3,
        "createdAt": NOW,
        "updatedAt": NOW,
        "dueSort": NOW,  # repository bookkeeping: not a field of the model
        "cascadeId": None,
    }


def test_a_document_read_and_written_back_keeps_every_field() -> None:
    task = Task.from_document(_task_document())
    assert task.id == "0123456789abcdef01234567"
    assert task.status is TaskStatus.PENDING
    written = Task.document(description=task.description, status=task.status, due_date=NOW)
    assert written == {"description": "Write the report", "status": "PENDING", "dueDate": NOW}


def test_a_field_the_model_does_not_have_cannot_be_written() -> None:
    with pytest.raises(TypeError, match="no field due_soon"):
        Task.document(due_soon=NOW)


@pytest.mark.parametrize(
    ("model", "audited"),
    [
        (User, {"username", "email", "fullName", "role", "isActive"}),
        (Project, {"name", "description", "ownerId", "isActive"}),
        (
            Task,
            {
                "projectId",
                "description",
                "assignedTo",
                "status",
                "dueDate",
                "completedAt",
                "createdBy",
                "isActive",
            },
        ),
    ],
)
def test_the_audit_diff_shows_the_public_fields_and_never_a_secret_or_bookkeeping(
    model: type[User | Project | Task], audited: set[str]
) -> None:
    assert model.audited_fields() == audited


def test_an_update_is_diffed_by_stored_names_with_json_values() -> None:
    task = Task.from_document(_task_document())
    changes = updated(task.audit_view(), Task.document(status=TaskStatus.COMPLETED))
    assert {k: (c.from_, c.to) for k, c in changes.items()} == {"status": ("PENDING", "COMPLETED")}


def test_the_wire_schemas_read_the_domain_objects_without_mapping_code() -> None:
    task = Task.from_document(_task_document())
    assert TaskPublic.of(task).model_dump(by_alias=True)["dueDate"] == NOW
    user = User.from_document(
        {
            "_id": ObjectId(),
            "username": "ada",
            "email": "ada@example.com",
            "fullName": "Ada",
            "passwordHash": "$2b$04$x",
            "role": "ADMIN",
            "isActive": True,
            "version": 1,
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    )
    assert user.role is Role.ADMIN
    assert "passwordHash" not in UserPublic.of(user).model_dump(by_alias=True)
    project = Project.from_document(
        {
            "_id": ObjectId(),
            "name": "Apollo",
            "description": "",
            "ownerId": user.id,
            "isActive": True,
            "version": 1,
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    )
    assert project.cascade_id is None
    assert ProjectPublic.of(project).owner_id == user.id
