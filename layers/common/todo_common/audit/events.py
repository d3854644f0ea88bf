"""The audit event: what every mutation and authentication event sends to the audit queue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

from todo_common import context
from todo_common.instants import instant_text, utcnow
from todo_common.principal import Principal


class AuditAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    RESTORE = "RESTORE"
    LOGIN = "LOGIN"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    TOKEN_REUSE = "TOKEN_REUSE"


class AuditEntity(StrEnum):
    USER = "USER"
    PROJECT = "PROJECT"
    TASK = "TASK"
    SESSION = "SESSION"
    WEBHOOK = "WEBHOOK"  # a subscription's create, update, delete, restore, secret rotation
    ACCESS_TOKEN = "ACCESS_TOKEN"  # a personal access token created (CREATE) or revoked (DELETE)


# Never in `changes`, whatever a caller passes: secrets and internal bookkeeping.
SECRET_FIELDS = frozenset({"password", "passwordHash", "currentPassword"})
REDACTED = "[redacted]"


class Change(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: Any = Field(alias="from")
    to: Any


class AuditEvent(BaseModel):
    """The SQS message body (camelCase JSON); `eventId` makes redelivery harmless."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    event_id: str
    actor_id: str | None
    actor_role: str | None
    action: AuditAction
    entity: AuditEntity
    entity_id: str = Field(min_length=1)
    detail: str = Field(min_length=1, max_length=200)
    changes: dict[str, Change] = Field(default_factory=dict)
    request_id: str | None
    occurred_at: datetime

    def wire(self) -> dict[str, Any]:
        """The JSON-ready message body."""
        return self.model_dump(mode="json", by_alias=True)


def new_event(
    *,
    actor: Principal | None,
    action: AuditAction,
    entity: AuditEntity,
    entity_id: str,
    detail: str,
    changes: dict[str, Change] | None = None,
) -> AuditEvent:
    return AuditEvent(
        event_id=str(uuid.uuid4()),
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
        changes=changes or {},
        request_id=context.request_id.get(),
        occurred_at=utcnow(),
    )


_JSON: TypeAdapter[Any] = TypeAdapter(Any)


def _shown(value: Any) -> Any:
    """A stored value as a change shows it: an instant as the API answers it."""
    return (
        instant_text(value)
        if isinstance(value, datetime)
        else _JSON.dump_python(value, mode="json")
    )


def created(fields: Mapping[str, Any], audited: frozenset[str]) -> dict[str, Change]:
    """The changes of a create: every audited field of the new record, from null."""
    return {k: Change(from_=None, to=_shown(v)) for k, v in fields.items() if k in audited}


def updated(before: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Change]:
    """`{field: {from, to}}` for a write of `stored` fields over `before`, the record's audited
    fields by stored name (`StoredModel.audit_view`).

    Internal fields (search keys, sort keys, bookkeeping) are not audited and are left out;
    a password change shows only as redacted.
    """
    changes: dict[str, Change] = {}
    for field, value in stored.items():
        if field in SECRET_FIELDS:
            changes["password"] = Change(from_=REDACTED, to=REDACTED)
        elif field in before:
            changes[field] = Change(
                from_=_shown(before[field]),
                to=_shown(value),
            )
    return changes
