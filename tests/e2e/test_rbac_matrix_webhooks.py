"""The webhooks rows (issue 20), generated from `todo_common.rbac.POLICY`, over HTTP.

For every WEBHOOKS_* action, every role and every standing towards a fresh subscription (the
caller's own or another MANAGER's), the expectation is `allows(POLICY[action][role], relations)`,
and every request of the action must answer accordingly: its success status, or a refusal that
changes nothing (`tests.e2e.rbac_matrix` runs it). A caller of any role may own a subscription
here: a MANAGER demoted to USER keeps theirs, and the table still decides what they may do.
Receivers are a closed loopback port: an attempt the gateway's worker makes fails at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest
from pymongo.database import Database

from tests.e2e.rbac_matrix import NO_RECORD, Endpoints, PolicyMatrix, PolicyMatrixTests, Standing
from tests.e2e.rbac_matrix import Call as GenericCall
from tests.factories import WITHOUT_OUTBOX, make_user
from tests.webhook_factories import CLOSED_PORT_URL, make_delivery, make_webhook
from todo_common.principal import Role
from todo_common.rbac import Action, Relation, Resource
from todo_common.records import User
from todo_common.webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class World:
    caller: User
    webhook: Webhook | None
    delivery: WebhookDelivery | None

    def ids(self) -> dict[str, str]:
        return {
            "webhook": self.webhook.id if self.webhook else "",
            "delivery": self.delivery.id if self.delivery else "",
        }


Call = GenericCall[World]

TOWARDS_A_WEBHOOK = (
    Standing("own-webhook", Resource.WEBHOOK, frozenset({Relation.OWNER})),
    Standing("others-webhook", Resource.WEBHOOK),
)


def _new_webhook(_: World) -> dict[str, Any]:
    return {"url": CLOSED_PORT_URL, "events": ["task.created", "project.updated"]}


def _patch(_: World) -> dict[str, Any]:
    return {"description": "patched by the matrix"}


ENDPOINTS: Final[Mapping[Action, Endpoints[World]]] = {
    Action.WEBHOOKS_CREATE: Endpoints((Call("POST", "/webhooks", 201, _new_webhook),), NO_RECORD),
    Action.WEBHOOKS_LIST: Endpoints((Call("GET", "/webhooks", 200),), NO_RECORD),
    Action.WEBHOOKS_READ: Endpoints(
        (
            Call("GET", "/webhooks/{webhook}", 200, echo="id"),
            Call("GET", "/webhooks/{webhook}/deliveries", 200),
        ),
        TOWARDS_A_WEBHOOK,
    ),
    Action.WEBHOOKS_WRITE: Endpoints(
        (
            Call("PATCH", "/webhooks/{webhook}", 200, _patch, echo="id"),
            Call("DELETE", "/webhooks/{webhook}", 204),
            Call("POST", "/webhooks/{webhook}/restore", 200, deleted_target=True),
            Call("POST", "/webhooks/{webhook}/rotate-secret", 200),
            Call("POST", "/webhooks/{webhook}/ping", 202),
            Call("POST", "/webhooks/{webhook}/deliveries/{delivery}/redeliver", 202),
        ),
        TOWARDS_A_WEBHOOK,
    ),
}


def _refusal_status(role: Role, standing: Standing, call: Call) -> int:
    """403, except for a deleted subscription the caller may not even see (404)."""
    hidden = call.deleted_target and role is not Role.ADMIN and not standing.owner
    return 404 if hidden else 403


def _world(db: Database[dict[str, Any]], caller: User, standing: Standing, call: Call) -> World:
    if standing.about is None:
        return World(caller, None, None)
    owner = caller if standing.owner else make_user(db, role=Role.MANAGER)
    webhook = make_webhook(db, owner, is_active=not call.deleted_target)
    return World(caller, webhook, make_delivery(db, webhook))


def _webhooks(db: Database[dict[str, Any]]) -> list[dict[str, Any]]:
    """The subscriptions, without the bookkeeping the worker and the audit sender change."""
    hidden = WITHOUT_OUTBOX | {"failingSince": 0}
    return list(db.webhooks.find({}, hidden).sort("_id"))


class TestWebhooksRows(PolicyMatrixTests):
    matrix = PolicyMatrix(
        ("WEBHOOKS_",),
        ENDPOINTS,
        world=_world,
        state=_webhooks,
        refusal_status=_refusal_status,
    )
