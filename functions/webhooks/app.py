"""The webhooks function: a team's subscriptions to its changes, and their deliveries (issue 20)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import JSONResponse

from todo_common import container, snapstart
from todo_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from todo_common.http.app import create_app, lambda_handler
from todo_common.http.declared import problems
from todo_common.http.deps import CurrentPrincipal, PageParams, service
from todo_common.http.records import Write, read_route, revises, soft_delete_routes
from todo_common.http.responses import created, to_response
from todo_common.schemas.base import Page
from todo_common.schemas.webhooks import (
    DeliveryPublic,
    WebhookCreate,
    WebhookPatch,
    WebhookPublic,
    WebhookWithSecret,
)
from todo_common.services.webhooks import WebhookService

Webhooks = Annotated[WebhookService, Depends(service(container.webhook_service))]
DeliveryId = Annotated[str, Path(alias="deliveryId")]

webhooks = APIRouter(prefix="/webhooks", tags=["webhooks"])


@webhooks.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookWithSecret,
    responses=problems(Forbidden, InvalidInput, NotFound),
)
async def create_webhook(
    body: WebhookCreate, principal: CurrentPrincipal, service: Webhooks
) -> JSONResponse:
    """Subscribe; the answer holds the signing secret, shown this once."""
    webhook, secret = service.create(principal, body)
    return to_response(created(WebhookWithSecret.revealing(webhook, secret), "/webhooks"))


@webhooks.get("", response_model=Page[WebhookPublic], responses=problems(Forbidden))
async def list_webhooks(
    principal: CurrentPrincipal,
    service: Webhooks,
    page: PageParams,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
) -> Page[WebhookPublic]:
    result = service.list(principal, is_active=is_active, **page)
    return Page[WebhookPublic].of(result, WebhookPublic.of)


read_route(webhooks, "webhook", Webhooks, WebhookPublic, Forbidden, NotFound)


@revises(webhooks.patch, "/{webhook_id}", WebhookPublic)
async def patch_webhook(
    webhook_id: str, body: WebhookPatch, write: Write, service: Webhooks
) -> WebhookPublic:
    webhook = service.update(write.principal, webhook_id, body, write.if_match)
    return write.answer(WebhookPublic.of(webhook))


@webhooks.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=problems(Conflict, Forbidden, NotFound),
)
async def rotate_webhook_secret(
    webhook_id: str, write: Write, service: Webhooks
) -> WebhookWithSecret:
    """A new secret, shown this once; the previous one keeps signing beside it for 24 h."""
    webhook, secret = service.rotate_secret(write.principal, webhook_id, write.if_match)
    return write.answer(WebhookWithSecret.revealing(webhook, secret))


@webhooks.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryPublic],
    responses=problems(Forbidden, NotFound),
)
async def list_webhook_deliveries(
    webhook_id: str, principal: CurrentPrincipal, service: Webhooks, page: PageParams
) -> Page[DeliveryPublic]:
    result = service.deliveries(principal, webhook_id, **page)
    return Page[DeliveryPublic].of(result, DeliveryPublic.of)


@webhooks.post(
    "/{webhook_id}/deliveries/{deliveryId}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryPublic,
    responses=problems(Conflict, Forbidden, NotFound),
)
async def redeliver_webhook_delivery(
    webhook_id: str, delivery_id: DeliveryId, principal: CurrentPrincipal, service: Webhooks
) -> DeliveryPublic:
    """Send the delivery's event again, soon (same `webhook-id`)."""
    return DeliveryPublic.of(service.redeliver(principal, webhook_id, delivery_id))


@webhooks.post(
    "/{webhook_id}/ping",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryPublic,
    responses=problems(Conflict, Forbidden, NotFound),
)
async def ping_webhook(
    webhook_id: str, principal: CurrentPrincipal, service: Webhooks
) -> DeliveryPublic:
    """Deliver a `webhook.ping` event, to check the receiver and its signature check."""
    return DeliveryPublic.of(service.ping(principal, webhook_id))


soft_delete_routes(webhooks, "webhook", Webhooks, WebhookPublic)

app = create_app(title="Webhooks", routers=[webhooks])
handler = lambda_handler(app, warm_up=snapstart.imports("todo_common.services.webhooks"))
