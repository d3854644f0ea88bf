"""Which webhook event an audit event is, and who may subscribe to it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from todo_common.audit.events import AuditAction, AuditEntity, AuditEvent
from todo_common.records import TaskStatus


class WebhookEventType(StrEnum):
    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_COMPLETED = "task.completed"
    TASK_DELETED = "task.deleted"
    TASK_RESTORED = "task.restored"
    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    PROJECT_DELETED = "project.deleted"
    PROJECT_RESTORED = "project.restored"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    USER_RESTORED = "user.restored"


PING = "webhook.ping"  # sent on request (POST /webhooks/{id}/ping), never subscribed to

# Users are ADMIN business: a MANAGER's subscription may not name these.
ADMIN_ONLY: frozenset[WebhookEventType] = frozenset(
    t for t in WebhookEventType if t.value.startswith("user.")
)

_ENTITIES = {AuditEntity.TASK: "task", AuditEntity.PROJECT: "project", AuditEntity.USER: "user"}
_ACTIONS = {
    AuditAction.CREATE: "created",
    AuditAction.UPDATE: "updated",
    AuditAction.DELETE: "deleted",
    AuditAction.RESTORE: "restored",
}


def event_type(event: AuditEvent) -> WebhookEventType | None:
    """The webhook event of an audit event (None for logins, webhooks' own changes…).

    An update that completes a task is `task.completed` rather than `task.updated`.
    """
    entity, action = _ENTITIES.get(event.entity), _ACTIONS.get(event.action)
    if entity is None or action is None:
        return None
    status = event.changes.get("status")
    completes = status is not None and status.to == TaskStatus.COMPLETED.value
    if entity == "task" and action == "updated" and completes:
        return WebhookEventType.TASK_COMPLETED
    return WebhookEventType(f"{entity}.{action}")


def event_body(
    *, event_id: str, type_: str, occurred_at: str, actor: dict[str, Any], data: Any, changes: Any
) -> str:
    """The delivered JSON, compact: the bytes every attempt signs and sends."""
    body = {
        "id": event_id,
        "type": type_,
        "occurredAt": occurred_at,
        "actor": actor,
        "data": data,
        "changes": changes,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
