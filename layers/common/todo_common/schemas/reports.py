"""Report and audit bodies."""

from __future__ import annotations

from pydantic import Field

from todo_common.audit.events import Change
from todo_common.schemas.base import Instant, PublicModel


class AuditPublic(PublicModel):
    id: str
    event_id: str
    actor_id: str | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    detail: str
    changes: dict[str, Change]
    request_id: str | None
    created_at: Instant = Field(description="When it happened")
    updated_at: Instant = Field(description="When it was recorded")
    recorded_at: Instant | None = Field(
        default=None, description="When the consumer stored it: the clock of the signed digests"
    )


# `GET /audits` as CSV (`Accept: text/csv`): every field of `AuditPublic`, who and when first.
AUDIT_CSV_COLUMNS = (
    "id",
    "eventId",
    "createdAt",
    "updatedAt",
    "recordedAt",
    "actorId",
    "actorRole",
    "action",
    "entity",
    "entityId",
    "detail",
    "changes",
    "requestId",
)


class StatusCounts(PublicModel):
    pending: int = Field(alias="PENDING")
    assigned: int = Field(alias="ASSIGNED")
    completed: int = Field(alias="COMPLETED")


class ProjectSummary(PublicModel):
    project_id: str
    total: int
    by_status: StatusCounts
    completion_rate: float = Field(description="completed / total, 0 when there are no tasks")
    overdue: int = Field(description="Open tasks whose dueDate has passed")
    generated_at: Instant


class ProjectWorkload(PublicModel):
    project_id: str
    open: int
    completed: int


class UserWorkload(PublicModel):
    user_id: str
    open: int
    completed: int
    overdue: int
    projects: list[ProjectWorkload]
    generated_at: Instant


class ActivityCount(PublicModel):
    day: str = Field(description="UTC day, YYYY-MM-DD")
    action: str
    entity: str
    count: int


class Activity(PublicModel):
    from_: Instant = Field(alias="from")
    to: Instant
    total: int
    items: list[ActivityCount]
