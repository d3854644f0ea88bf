"""Webhook test data, stored through the repositories the API uses (no audit event)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from todo_common import container
from todo_common.instants import utcnow
from todo_common.records import User
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository
from todo_common.webhooks.events import event_body
from todo_common.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from todo_common.webhooks.signing import new_secret

# Nothing listens there: a delivery attempt fails at once, on loopback.
CLOSED_PORT_URL = "http://127.0.0.1:9/hooks"


def make_webhook(
    db: Database[dict[str, Any]],
    owner: User,
    *,
    url: str = CLOSED_PORT_URL,
    events: tuple[str, ...] = ("task.created",),
    is_active: bool = True,
) -> Webhook:
    doc = WebhookRepository(db, container.server()).insert(
        Webhook.document(
            url=url,
            events=list(events),
            project_id=None,
            description="",
            owner_id=owner.id,
            is_active=is_active,
            enabled=True,
            secret=container.webhook_secrets().seal(new_secret()),
            disabled_reason=None,
            previous_secret=None,
            previous_secret_expires_at=None,
            failing_since=None,
        )
    )
    return Webhook.from_document(doc)


def make_delivery(db: Database[dict[str, Any]], webhook: Webhook) -> WebhookDelivery:
    """A delivery made earlier (delivered), for the routes that list and redeliver them."""
    now = utcnow()
    event_id = f"evt-{now.timestamp()}-{webhook.id}"
    doc, _ = DeliveryRepository(db, container.server()).add(
        WebhookDelivery.document(
            webhook_id=webhook.id,
            owner_id=webhook.owner_id,
            event_id=event_id,
            type="task.created",
            occurred_at=now,
            payload=event_body(
                event_id=event_id,
                type_="task.created",
                occurred_at=now.isoformat(),
                actor={"id": webhook.owner_id, "role": "ADMIN"},
                data=None,
                changes={},
            ),
            status=DeliveryStatus.DELIVERED,
            attempt=1,
            queued=True,
            status_code=200,
        )
    )
    return WebhookDelivery.from_document(doc)
