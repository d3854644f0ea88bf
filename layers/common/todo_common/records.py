"""The records the API stores (users, projects, tasks, access tokens), as services work with
them, independent of storage and of the HTTP shapes; the audit trail's are in `audit/records.py`.

Each is a frozen dataclass whose fields are its stored fields (`documents.py` maps them to and
from MongoDB). The API's schemas map these objects to the wire; adding a field to a record
touches its record here and its schemas, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from todo_common.documents import Record
from todo_common.principal import Role


class TaskStatus(StrEnum):
    PENDING = "PENDING"  # open, nobody assigned
    ASSIGNED = "ASSIGNED"  # open, assigned
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class User(Record):
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    username: str
    email: str
    full_name: str
    password_hash: str
    role: Role
    is_active: bool


@dataclass(frozen=True)
class Project(Record):
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset({"cascade_id", "deleted_at"})

    name: str
    description: str
    owner_id: str
    is_active: bool
    cascade_id: str | None = None  # the delete that took this project's tasks down
    # When it was last soft-deleted (the repository stamps it with that write's updatedAt):
    # a sync shows a tombstone only of a record deleted within its window.
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class Task(Record):
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset({"deleted_at"})

    project_id: str
    description: str
    assigned_to: str | None
    status: TaskStatus
    due_date: datetime | None
    completed_at: datetime | None
    created_by: str
    is_active: bool
    deleted_at: datetime | None = None  # as for a project

    @property
    def is_open(self) -> bool:
        return self.status is not TaskStatus.COMPLETED


@dataclass(frozen=True)
class AccessToken(Record):
    """A personal access token (issue 21.1): only the SHA-256 of its value is kept. Revoking sets
    `is_active` false (and `revoked_at`); the record stays, as every record does."""

    # The hash is the credential's stand-in, and the use marks are bookkeeping, not changes.
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset(
        {"token_hash", "last_used_at", "last_used_from"}
    )

    user_id: str
    name: str
    scopes: list[str]
    token_hash: str
    expires_at: datetime
    is_active: bool
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_from: str | None = None
