"""Task bodies."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import StringConstraints

from todo_common.records import TaskStatus
from todo_common.schemas.base import (
    ApiModel,
    Instant,
    ObjectIdStr,
    PatchModel,
    PublicModel,
    UtcDateTime,
)

TaskDescription = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]


DueDate = UtcDateTime


class TaskCreate(ApiModel):
    project_id: ObjectIdStr
    description: TaskDescription
    assigned_to: ObjectIdStr | None = None
    status: TaskStatus | None = None
    due_date: DueDate | None = None


class TaskPatch(PatchModel):
    nullable: ClassVar[frozenset[str]] = frozenset({"assigned_to", "due_date"})

    project_id: ObjectIdStr | None = None
    description: TaskDescription | None = None
    assigned_to: ObjectIdStr | None = None
    status: TaskStatus | None = None
    due_date: DueDate | None = None


class TaskReplace(TaskPatch):
    """PUT: every client-writable field; leaving `assignedTo`/`dueDate` out clears them."""

    project_id: ObjectIdStr
    description: TaskDescription
    status: TaskStatus


class TaskPublic(PublicModel):
    id: str
    project_id: str
    description: str
    assigned_to: str | None
    status: TaskStatus
    due_date: Instant | None
    completed_at: Instant | None
    created_by: str
    is_active: bool
    version: int
    created_at: Instant
    updated_at: Instant
