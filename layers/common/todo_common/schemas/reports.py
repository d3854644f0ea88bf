"""Report and audit bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from todo_common.audit.events import Change
from todo_common.schemas.base import ApiModel


class AuditPublic(ApiModel):
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
    created_at: datetime = Field(description="When it happened")
    updated_at: datetime = Field(description="When it was recorded")
    recorded_at: datetime | None = Field(
        default=None, description="When the consumer stored it: the clock of the signed digests"
    )

    @classmethod
    def of(cls, doc: dict[str, Any]) -> AuditPublic:
        return cls(
            id=str(doc["_id"]),
            event_id=doc["eventId"],
            actor_id=doc.get("actorId"),
            actor_role=doc.get("actorRole"),
            action=doc["action"],
            entity=doc["entity"],
            entity_id=doc["entityId"],
            detail=doc["detail"],
            changes=doc.get("changes") or {},
            request_id=doc.get("requestId"),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            recorded_at=doc.get("recordedAt"),
        )


class StatusCounts(ApiModel):
    pending: int = Field(alias="PENDING")
    assigned: int = Field(alias="ASSIGNED")
    completed: int = Field(alias="COMPLETED")


class ProjectSummary(ApiModel):
    project_id: str
    total: int
    by_status: StatusCounts
    completion_rate: float = Field(description="completed / total, 0 when there are no tasks")
    overdue: int = Field(description="Open tasks whose dueDate has passed")
    generated_at: datetime


class ProjectWorkload(ApiModel):
    project_id: str
    open: int
    completed: int


class UserWorkload(ApiModel):
    user_id: str
    open: int
    completed: int
    overdue: int
    projects: list[ProjectWorkload]
    generated_at: datetime


class ActivityCount(ApiModel):
    day: str = Field(description="UTC day, YYYY-MM-DD")
    action: str
    entity: str
    count: int


class Activity(ApiModel):
    from_: datetime = Field(alias="from")
    to: datetime
    total: int
    items: list[ActivityCount]
