"""From an audit record, just stored, to the deliveries it owes: one per matching subscription.

Called by the audit consumer after it stored the record (never on a request's path). Each
delivery is written once, unique by (subscription, eventId), then queued; an audit message
delivered again finds the deliveries written and queues only one whose queueing did not finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from todo_common.audit.events import AuditEntity, AuditEvent
from todo_common.instants import instant_text
from todo_common.logs import logger
from todo_common.principal import Role
from todo_common.records import Project, Task, User
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository
from todo_common.schemas.projects import ProjectPublic
from todo_common.schemas.tasks import TaskPublic
from todo_common.schemas.users import UserPublic
from todo_common.webhooks.events import ADMIN_ONLY, WebhookEventType, event_body, event_type
from todo_common.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from todo_common.webhooks.queue import DeliveryQueue


@dataclass(frozen=True)
class Subject:
    """What an event is about: the resource as the API serves it, and the project it is in."""

    data: dict[str, Any] | None
    project: Project | None


@dataclass(frozen=True)
class WebhookFanout:
    """What the fan-out reads (subscriptions, the changed resource) and writes (deliveries)."""

    webhooks: WebhookRepository
    deliveries: DeliveryRepository
    users: UserRepository
    projects: ProjectRepository
    tasks: TaskRepository
    queue: DeliveryQueue

    def publish(self, event: AuditEvent) -> int:
        """Write and queue the deliveries `event` owes; returns how many were queued now.

        Raises when MongoDB or SQS fail: the consumer reports the message failed, and its next
        delivery finishes the job without writing anything twice.
        """
        type_ = event_type(event)
        if type_ is None:
            return 0
        subscriptions = [Webhook.from_document(d) for d in self.webhooks.subscribed_to(type_)]
        if not subscriptions:
            return 0
        subject = self._subject(event)
        owners: dict[str, User | None] = {}
        queued = 0
        for webhook in subscriptions:
            if webhook.owner_id not in owners:
                doc = self.users.get(webhook.owner_id)
                owners[webhook.owner_id] = User.from_document(doc) if doc else None
            if not receives(webhook, owners[webhook.owner_id], type_, subject.project):
                continue
            queued += self._deliver(webhook, event, type_, subject)
        return queued

    def _deliver(
        self, webhook: Webhook, event: AuditEvent, type_: WebhookEventType, subject: Subject
    ) -> int:
        payload = event_body(
            event_id=event.event_id,
            type_=type_.value,
            occurred_at=instant_text(event.occurred_at),
            actor={"id": event.actor_id, "role": event.actor_role},
            data=subject.data,
            changes={k: c.model_dump(mode="json", by_alias=True) for k, c in event.changes.items()},
        )
        doc, _ = self.deliveries.add(
            WebhookDelivery.document(
                webhook_id=webhook.id,
                owner_id=webhook.owner_id,
                event_id=event.event_id,
                type=type_.value,
                occurred_at=event.occurred_at,
                payload=payload,
                status=DeliveryStatus.PENDING,
                attempt=0,
                queued=False,
                next_attempt_at=event.occurred_at,
            )
        )
        delivery = WebhookDelivery.from_document(doc)
        if delivery.queued:
            return 0  # written and queued by an earlier delivery of this audit message
        self.queue.send(delivery.id, 0)
        self.deliveries.mark_queued(delivery.id)
        logger.info(
            "Webhook delivery queued",
            extra={"webhook_id": webhook.id, "event_id": event.event_id, "type": type_.value},
        )
        return 1

    def _subject(self, event: AuditEvent) -> Subject:
        if event.entity is AuditEntity.TASK:
            doc = self.tasks.get(event.entity_id)
            if doc is None:
                return Subject(None, None)
            task = Task.from_document(doc)
            return Subject(_wire(TaskPublic.of(task)), self._project(task.project_id))
        if event.entity is AuditEntity.PROJECT:
            project = self._project(event.entity_id)
            return Subject(_wire(ProjectPublic.of(project)) if project else None, project)
        doc = self.users.get(event.entity_id)
        return Subject(_wire(UserPublic.of(User.from_document(doc))) if doc else None, None)

    def _project(self, project_id: str) -> Project | None:
        doc = self.projects.get(project_id)
        return Project.from_document(doc) if doc else None


def receives(
    webhook: Webhook, owner: User | None, type_: WebhookEventType, project: Project | None
) -> bool:
    """Whether the subscription gets this event: its owner still an active ADMIN or MANAGER; a
    MANAGER's only for a project they own now (never `user.*`); `projectId` narrowing it."""
    if owner is None or not owner.is_active:
        return False
    if webhook.project_id is not None and (project is None or project.id != webhook.project_id):
        return False
    if owner.role is Role.ADMIN:
        return True
    if owner.role is Role.MANAGER:
        return type_ not in ADMIN_ONLY and project is not None and project.owner_id == owner.id
    return False


def _wire(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return dumped
