"""Webhook bodies: subscriptions, their one-time secret, and their deliveries."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StringConstraints, field_validator

from todo_common.schemas.base import ApiModel, Instant, ObjectIdStr, PatchModel, PublicModel
from todo_common.webhooks.events import WebhookEventType
from todo_common.webhooks.models import DeliveryStatus, Webhook

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
Description = Annotated[str, StringConstraints(max_length=500)]
Events = Annotated[list[WebhookEventType], Field(min_length=1, max_length=len(WebhookEventType))]


def _distinct(events: list[WebhookEventType] | None) -> list[WebhookEventType] | None:
    if events is not None and len(set(events)) != len(events):
        raise ValueError("each event type at most once")
    return events


class WebhookCreate(ApiModel):
    url: Url = Field(description="Absolute https URL, without credentials, of a public host")
    events: Events
    project_id: ObjectIdStr | None = Field(
        default=None, description="Only this project's events (a MANAGER: one of their own)"
    )
    description: Description = ""

    _events = field_validator("events")(_distinct)


class WebhookPatch(PatchModel):
    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: bool | None = Field(
        default=None, description="true resumes a disabled subscription (and forgets why)"
    )

    _events = field_validator("events")(_distinct)


class WebhookPublic(PublicModel):
    id: str
    url: str
    events: list[WebhookEventType]
    project_id: str | None
    description: str
    owner_id: str
    is_active: bool
    enabled: bool
    disabled_reason: str | None = Field(description="Why deliveries stopped (410, or failing)")
    previous_secret_expires_at: Instant | None = Field(
        description="Until then, the secret before the last rotation signs too"
    )
    version: int
    created_at: Instant
    updated_at: Instant


class WebhookWithSecret(WebhookPublic):
    """A subscription as created or rotated: with its signing secret, shown this once."""

    secret: str = Field(description="`whsec_…`: verify signatures with it; not shown again")

    @classmethod
    def revealing(cls, webhook: Webhook, secret: str) -> Self:
        return cls.model_validate({**WebhookPublic.of(webhook).model_dump(), "secret": secret})


class DeliveryPublic(PublicModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="The `webhook-id` header: receivers deduplicate by it")
    type: str
    status: DeliveryStatus
    attempt: int = Field(description="Attempts made so far")
    status_code: int | None = Field(description="The receiver's answer to the last attempt")
    duration_ms: int | None
    error: str | None
    next_attempt_at: Instant | None
    delivered_at: Instant | None
    created_at: Instant
    updated_at: Instant
