"""Domain models: what services work with, independent of storage and of the HTTP shapes.

A stored record (`User`, `Project`, `Task`) is a frozen dataclass on `Record` (the bookkeeping
every record has: id, version, timestamps), and its fields are listed there once: `from_document`
reads a MongoDB document, `document` gives the fields to write (stored names are the camelCase of
the field names, `_id` for `id`), and `audited_fields` / `audit_view` give what the audit diff
compares. The API's schemas map these objects to the wire;
adding a field to a record touches its model and its schemas, nothing else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, ClassVar, Generic, Self, TypeVar, get_type_hints

from pydantic.alias_generators import to_camel

Doc = dict[str, Any]


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


def stored_name(field: str) -> str:
    """The name a field has in MongoDB (and in the API's JSON): camelCase, `_id` for `id`."""
    return "_id" if field == "id" else to_camel(field)


class StoredModel:
    """What every stored record can do, derived from its dataclass fields."""

    # Fields kept but never shown in the audit trail (secrets, bookkeeping of a cascade).
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_document(cls, doc: Doc) -> Self:
        values: dict[str, Any] = {}
        for field, load in _loaders(cls):
            key = stored_name(field.name)
            if key in doc:
                values[field.name] = load(doc[key])
            elif field.default is not dataclasses.MISSING:
                values[field.name] = field.default
            elif field.default_factory is not dataclasses.MISSING:
                values[field.name] = field.default_factory()
            else:
                values[field.name] = None  # optional fields absent from older records
        return cls(**values)

    @classmethod
    def document(cls, **values: Any) -> Doc:
        """The stored form of some of this record's fields (by Python name), ready to write."""
        names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(values) - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
        return {stored_name(k): v.value if isinstance(v, Enum) else v for k, v in values.items()}

    @classmethod
    def audited_fields(cls) -> frozenset[str]:
        """Stored names of the fields an audit diff shows."""
        return frozenset(
            stored_name(field.name)
            for field in dataclasses.fields(cls)  # type: ignore[arg-type]
            if field.name not in _bookkeeping() | cls.NOT_AUDITED
        )

    def audit_view(self) -> Doc:
        """This record's audited fields by stored name, as they are before a change."""
        audited = self.audited_fields()
        return {
            stored_name(field.name): getattr(self, field.name)
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if stored_name(field.name) in audited
        }


_LOADERS: dict[type, list[tuple[dataclasses.Field[Any], Any]]] = {}


def _loaders(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """Each field with how to load its stored value (enums from their value, `_id` as text)."""
    if cls not in _LOADERS:
        _LOADERS[cls] = _build_loaders(cls)
    return _LOADERS[cls]


def _build_loaders(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    hints = get_type_hints(cls)
    loaders: list[tuple[dataclasses.Field[Any], Any]] = []
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if field.name == "id":
            load: Any = str
        elif isinstance(hint, type) and issubclass(hint, Enum):
            load = hint
        elif hint is bool:
            load = bool
        elif hint is int:
            load = int
        else:
            load = _as_is
        loaders.append((field, load))
    return loaders


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Record(StoredModel):
    """The bookkeeping every stored record has, in one place; not part of an audit diff."""

    id: str
    version: int
    created_at: datetime
    updated_at: datetime


def _bookkeeping() -> frozenset[str]:
    return frozenset(field.name for field in dataclasses.fields(Record))


@dataclass(frozen=True)
class User(Record):
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    username: str
    email: str
    full_name: str
    password_hash: str
    role: Role
    is_active: bool


def utcnow() -> datetime:
    """Now in UTC, cut to milliseconds: what MongoDB stores, so values read back compare equal."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def instant_text(value: datetime) -> str:
    """An instant as the API writes it everywhere (answers, audit changes, the audit trail's
    canonical form): UTC, always at millisecond precision, `Z` (`2026-12-02T01:48:13.000Z`), so
    that such texts sort as their instants do. A naive datetime is read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
class Project(Record):
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset({"cascade_id"})

    name: str
    description: str
    owner_id: str
    is_active: bool
    cascade_id: str | None = None  # the delete that took this project's tasks down


@dataclass(frozen=True)
class Task(Record):
    project_id: str
    description: str
    assigned_to: str | None
    status: TaskStatus
    due_date: datetime | None
    completed_at: datetime | None
    created_by: str
    is_active: bool

    @property
    def is_open(self) -> bool:
        return self.status is not TaskStatus.COMPLETED


@dataclass(frozen=True)
class Audit(StoredModel):
    """One record of the audit trail (written once by the consumer, never changed)."""

    id: str
    event_id: str
    actor_id: str | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    detail: str
    request_id: str | None
    created_at: datetime  # when it happened
    updated_at: datetime  # when it was recorded
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class DigestEntry:
    event_id: str
    record_hash: str


@dataclass(frozen=True)
class AuditDigest(StoredModel):
    """The signed digest of one closed period of the audit trail."""

    period_start: datetime
    period_end: datetime
    count: int
    records_hash: str
    previous_digest_hash: str | None
    digest_hash: str
    signature: str
    key_id: str
    signing_algorithm: str
    records: list[DigestEntry] = dataclasses.field(default_factory=list)

    @classmethod
    def from_document(cls, doc: Doc) -> Self:
        digest = super().from_document(doc)
        entries = [DigestEntry(e["eventId"], e["recordHash"]) for e in doc.get("records") or []]
        return dataclasses.replace(digest, records=entries)


# -- reports: computed, not stored -----------------------------------------------------------


@dataclass(frozen=True)
class StatusCounts:
    pending: int
    assigned: int
    completed: int


@dataclass(frozen=True)
class ProjectSummary:
    project_id: str
    total: int
    by_status: StatusCounts
    completion_rate: float
    overdue: int
    generated_at: datetime


@dataclass(frozen=True)
class ProjectWorkload:
    project_id: str
    open: int
    completed: int


@dataclass(frozen=True)
class UserWorkload:
    user_id: str
    open: int
    completed: int
    overdue: int
    projects: list[ProjectWorkload]
    generated_at: datetime


@dataclass(frozen=True)
class ActivityCount:
    day: str
    action: str
    entity: str
    count: int


@dataclass(frozen=True)
class Activity:
    from_: datetime
    to: datetime
    total: int
    items: list[ActivityCount]
