"""What is stored for webhooks: a subscription, and one delivery of one event to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from todo_common.documents import Record

Sealed = dict[str, str]  # a secret encrypted under a KMS data key (webhooks/secrets.py)


@dataclass(frozen=True)
class Webhook(Record):
    # The secrets are never shown in the audit trail; `failingSince` is the worker's bookkeeping.
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset(
        {"secret", "previous_secret", "failing_since"}
    )

    url: str
    events: list[str]
    project_id: str | None
    description: str
    owner_id: str
    is_active: bool
    enabled: bool
    secret: Sealed
    disabled_reason: str | None = None
    previous_secret: Sealed | None = None  # still signs, beside `secret`, until the instant below
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None  # the first failed attempt since the last success


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # an attempt is due at `nextAttemptAt`
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # given up: a 410, or the subscription disabled or deleted


@dataclass(frozen=True)
class WebhookDelivery(Record):
    """One event for one subscription: unique by (webhookId, eventId), its body fixed at creation
    so that every attempt sends (and signs) the same bytes."""

    webhook_id: str
    owner_id: str
    event_id: str
    type: str
    occurred_at: datetime
    payload: str
    status: DeliveryStatus
    attempt: int  # attempts made so far
    queued: bool  # its first message reached the delivery queue
    next_attempt_at: datetime | None = None
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    delivered_at: datetime | None = None
