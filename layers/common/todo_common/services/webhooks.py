"""Webhook subscriptions: who may subscribe to what, their secrets, deliveries on request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import InitVar, dataclass
from datetime import timedelta
from typing import Any

from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.audit.trail import AuditTrail
from todo_common.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from todo_common.instants import instant_text, utcnow
from todo_common.logs import logger
from todo_common.principal import Principal, Role
from todo_common.rbac import Action, Resource, authorize, owner_relation
from todo_common.records import Project
from todo_common.repositories.pagination import Slice
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.webhooks import OLDEST_FIRST, DeliveryRepository, WebhookRepository
from todo_common.schemas.webhooks import WebhookCreate, WebhookPatch
from todo_common.services.reads import visible_owned
from todo_common.services.writes import AuditedWrites, check_if_match, retrying
from todo_common.settings import WebhookSettings
from todo_common.webhooks.addresses import url_problem
from todo_common.webhooks.events import ADMIN_ONLY, PING, WebhookEventType, event_body
from todo_common.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from todo_common.webhooks.queue import DeliveryQueue, QueueUnavailable
from todo_common.webhooks.secrets import SecretBox
from todo_common.webhooks.signing import new_secret


@dataclass(eq=False)
class WebhookService:
    _webhooks: WebhookRepository
    _deliveries: DeliveryRepository
    _projects: ProjectRepository
    _secrets: SecretBox
    _queue: DeliveryQueue
    _settings: WebhookSettings
    audit: InitVar[AuditTrail]

    def __post_init__(self, audit: AuditTrail) -> None:
        self._writes = AuditedWrites(self._webhooks, audit, AuditEntity.WEBHOOK, Webhook)

    def create(self, principal: Principal, data: WebhookCreate) -> tuple[Webhook, str]:
        """A new subscription and its secret (shown this once). A MANAGER subscribes to their
        own projects' events only, never to `user.*`."""
        authorize(Action.WEBHOOKS_CREATE, principal)
        self._check_url(data.url)
        self._check_events(principal, data.events)
        if data.project_id is not None:
            self._check_project(principal, data.project_id)
        secret = new_secret()
        doc = self._writes.create(
            principal,
            Webhook.document(
                url=data.url,
                events=[e.value for e in data.events],
                project_id=data.project_id,
                description=data.description,
                owner_id=principal.user_id,
                is_active=True,
                enabled=True,
                secret=self._secrets.seal(secret),
                disabled_reason=None,
                previous_secret=None,
                previous_secret_expires_at=None,
                failing_since=None,
            ),
            detail="CREATE_WEBHOOK",
        )
        return Webhook.from_document(doc), secret

    def get(self, principal: Principal, webhook_id: str) -> Webhook:
        """An ADMIN reads any subscription, a MANAGER their own (an inactive one: 404 to others)."""
        webhook = self._visible(principal, webhook_id)
        authorize(Action.WEBHOOKS_READ, principal, owner_relation(principal, webhook.owner_id))
        return webhook

    def list(
        self, principal: Principal, *, is_active: bool | None, limit: int, cursor: str | None
    ) -> Slice[Webhook]:
        """An ADMIN's list holds every subscription; anyone else's their own."""
        authorize(Action.WEBHOOKS_LIST, principal)
        owner = None if principal.role is Role.ADMIN else principal.user_id
        query = self._webhooks.list_query(is_active=is_active is not False, owner_id=owner)
        page = self._webhooks.search(query, OLDEST_FIRST, limit, cursor)
        return Slice([Webhook.from_document(d) for d in page.items], page.next_cursor)

    def update(
        self, principal: Principal, webhook_id: str, patch: WebhookPatch, if_match: int | None
    ) -> Webhook:
        return self._writes.revise(
            principal,
            if_match,
            lambda: self._writable(principal, webhook_id, if_match),
            lambda current: self._changes(principal, current, patch.changes()),
        )

    def delete(self, principal: Principal, webhook_id: str, if_match: int | None) -> None:
        """Soft-delete: deliveries stop; a restore resumes them."""
        self._set_active(principal, webhook_id, if_match, active=False)

    def restore(self, principal: Principal, webhook_id: str, if_match: int | None) -> Webhook:
        return self._set_active(principal, webhook_id, if_match, active=True)

    def rotate_secret(
        self, principal: Principal, webhook_id: str, if_match: int | None
    ) -> tuple[Webhook, str]:
        """A new secret; the current one keeps signing beside it for the overlap (24 h)."""
        secret = new_secret()
        sealed = self._secrets.seal(secret)

        def attempt() -> Webhook:
            current = self._writable(principal, webhook_id, if_match)
            if not current.is_active:
                raise Conflict("The webhook is deleted; restore it before rotating its secret")
            expires = utcnow() + timedelta(seconds=self._settings.secret_overlap_seconds)
            return Webhook.from_document(
                self._writes.update(
                    principal,
                    AuditAction.UPDATE,
                    webhook_id,
                    current,
                    Webhook.document(
                        secret=sealed,
                        previous_secret=current.secret,
                        previous_secret_expires_at=expires,
                    ),
                    version=current.version,
                    detail="ROTATE_WEBHOOK_SECRET",
                )
            )

        return retrying(if_match, attempt), secret

    def deliveries(
        self, principal: Principal, webhook_id: str, *, limit: int, cursor: str | None
    ) -> Slice[WebhookDelivery]:
        """The subscription's deliveries, newest first."""
        webhook = self.get(principal, webhook_id)
        page = self._deliveries.of_webhook(webhook.id, limit, cursor)
        return Slice([WebhookDelivery.from_document(d) for d in page.items], page.next_cursor)

    def redeliver(self, principal: Principal, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        """Send a delivery's event again, now (the same `webhook-id`: receivers may dedupe)."""
        webhook = self._sendable(principal, webhook_id)
        doc = self._deliveries.get(delivery_id)
        if doc is None or doc.get("webhookId") != webhook.id:
            raise NotFound("Delivery not found")
        again = self._deliveries.redeliver(delivery_id, utcnow())
        if again is None:
            raise NotFound("Delivery not found")
        delivery = WebhookDelivery.from_document(again)
        self._enqueue(delivery)
        return delivery

    def ping(self, principal: Principal, webhook_id: str) -> WebhookDelivery:
        """A `webhook.ping` event, delivered like any other."""
        webhook = self._sendable(principal, webhook_id)
        event_id = str(uuid.uuid4())
        now = utcnow()
        payload = event_body(
            event_id=event_id,
            type_=PING,
            occurred_at=instant_text(now),
            actor={"id": principal.user_id, "role": principal.role.value},
            data={"webhookId": webhook.id},
            changes={},
        )
        doc, _ = self._deliveries.add(
            WebhookDelivery.document(
                webhook_id=webhook.id,
                owner_id=webhook.owner_id,
                event_id=event_id,
                type=PING,
                occurred_at=now,
                payload=payload,
                status=DeliveryStatus.PENDING,
                attempt=0,
                queued=True,
                next_attempt_at=now,
            )
        )
        delivery = WebhookDelivery.from_document(doc)
        self._enqueue(delivery)
        return delivery

    # -- rules -------------------------------------------------------------------------------

    def _visible(self, principal: Principal, webhook_id: str) -> Webhook:
        doc = self._webhooks.get(webhook_id)
        return visible_owned(doc, Webhook, principal, Resource.WEBHOOK, "Webhook not found")

    def _writable(self, principal: Principal, webhook_id: str, if_match: int | None) -> Webhook:
        webhook = self._visible(principal, webhook_id)
        authorize(Action.WEBHOOKS_WRITE, principal, owner_relation(principal, webhook.owner_id))
        check_if_match(webhook.version, if_match)
        return webhook

    def _sendable(self, principal: Principal, webhook_id: str) -> Webhook:
        webhook = self._writable(principal, webhook_id, None)
        if not webhook.is_active or not webhook.enabled:
            raise Conflict("The webhook is deleted or disabled; restore or enable it first")
        return webhook

    def _set_active(
        self, principal: Principal, webhook_id: str, if_match: int | None, *, active: bool
    ) -> Webhook:
        def attempt() -> Webhook:
            current = self._writable(principal, webhook_id, if_match)
            if current.is_active is active:
                return current
            return Webhook.from_document(
                self._writes.update(
                    principal,
                    AuditAction.RESTORE if active else AuditAction.DELETE,
                    webhook_id,
                    current,
                    Webhook.document(is_active=active),
                    version=current.version,
                    detail="RESTORE_WEBHOOK" if active else "DELETE_WEBHOOK",
                )
            )

        return retrying(if_match, attempt)

    def _changes(
        self, principal: Principal, current: Webhook, sent: dict[str, Any]
    ) -> dict[str, Any]:
        if "events" in sent:
            self._check_events(principal, sent["events"])
            sent["events"] = [e.value for e in sent["events"]]
        if "url" in sent:
            self._check_url(sent["url"])
        update = {k: v for k, v in sent.items() if v != getattr(current, k)}
        if update.get("enabled") is True:  # resumed: the old reason and streak are forgotten
            update |= {"disabled_reason": None, "failing_since": None}
        return Webhook.document(**update)

    def _check_url(self, url: str) -> None:
        problem = url_problem(
            url,
            allow_http=self._settings.allow_http,
            allow_loopback=self._settings.allow_loopback,
        )
        if problem is not None:
            raise InvalidInput(f"url {problem}", [FieldError(("body", "url"), problem)])

    @staticmethod
    def _check_events(principal: Principal, events: Iterable[WebhookEventType]) -> None:
        admin_only = sorted(e.value for e in events if e in ADMIN_ONLY)
        if admin_only and principal.role is not Role.ADMIN:
            raise Forbidden(f"Only an ADMIN may subscribe to {', '.join(admin_only)}")

    def _check_project(self, principal: Principal, project_id: str) -> Project:
        doc = self._projects.get(project_id)
        project = Project.from_document(doc) if doc else None
        if project is None or not project.is_active:
            raise NotFound("Project not found")
        if principal.role is not Role.ADMIN and project.owner_id != principal.user_id:
            raise Forbidden("A MANAGER may subscribe to their own projects' events only")
        return project

    def _enqueue(self, delivery: WebhookDelivery) -> None:
        try:
            self._queue.send(delivery.id, delivery.attempt)
        except QueueUnavailable:
            # Due now and recorded so: the sweep queues it once SQS answers again.
            logger.warning("Webhook delivery left to the sweep", extra={"delivery_id": delivery.id})
