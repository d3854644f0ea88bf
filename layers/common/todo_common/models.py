"""Domain models: what services work with, independent of storage and of the HTTP shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar


class Role(StrEnum):
    USER = "USER"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: str
    role: Role
    session_id: str


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str
    full_name: str
    password_hash: str
    role: Role
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> User:
        return cls(
            id=str(doc["_id"]),
            username=doc["username"],
            email=doc["email"],
            full_name=doc["fullName"],
            password_hash=doc["passwordHash"],
            role=Role(doc["role"]),
            is_active=bool(doc["isActive"]),
            version=int(doc["version"]),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )


def utcnow() -> datetime:
    """Now in UTC, cut to milliseconds: what MongoDB stores, so values read back compare equal."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


T = TypeVar("T")


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of a list: its items and the cursor of the next page (None at the end)."""

    items: list[T]
    next_cursor: str | None


class TaskStatus(StrEnum):
    PENDING = "PENDING"  # open, nobody assigned
    ASSIGNED = "ASSIGNED"  # open, assigned
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    description: str
    owner_id: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    cascade_id: str | None = None  # the delete that took this project's tasks down

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Project:
        return cls(
            id=str(doc["_id"]),
            name=doc["name"],
            description=doc.get("description", ""),
            owner_id=doc["ownerId"],
            is_active=bool(doc["isActive"]),
            version=int(doc["version"]),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            cascade_id=doc.get("cascadeId"),
        )


@dataclass(frozen=True)
class Task:
    id: str
    project_id: str
    description: str
    assigned_to: str | None
    status: TaskStatus
    due_date: datetime | None
    completed_at: datetime | None
    created_by: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status is not TaskStatus.COMPLETED

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Task:
        return cls(
            id=str(doc["_id"]),
            project_id=doc["projectId"],
            description=doc["description"],
            assigned_to=doc.get("assignedTo"),
            status=TaskStatus(doc["status"]),
            due_date=doc.get("dueDate"),
            completed_at=doc.get("completedAt"),
            created_by=doc["createdBy"],
            is_active=bool(doc["isActive"]),
            version=int(doc["version"]),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )
