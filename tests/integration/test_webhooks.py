"""Webhooks end to end in one process (issue 20): a change is audited, the consumer stores the
record and fans out, the worker delivers to a real receiver on 127.0.0.1, signed as Standard
Webhooks says; `standardwebhooks`, the receivers' reference library, verifies every delivery.

Every connection goes to loopback (`loopback_only` fails a test that tries another).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import standardwebhooks.webhooks as reference
from bson import ObjectId
from pymongo.database import Database
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from tests.factories import make_project, make_user
from tests.integration.webhook_pipeline import Pipeline, pipeline, principal
from tests.webhook_receiver import ConnectGuard, Receiver, loopback_only, running_receiver
from todo_common import container
from todo_common.audit.consumer import record_message
from todo_common.errors import Forbidden, NotFound
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.records import TaskStatus, User
from todo_common.schemas.projects import ProjectCreate
from todo_common.schemas.tasks import TaskCreate, TaskPatch
from todo_common.schemas.webhooks import WebhookCreate, WebhookPatch
from todo_common.webhooks.events import WebhookEventType as T
from todo_common.webhooks.models import Webhook

pytestmark = pytest.mark.integration
__all__ = ["loopback_only"]

Db = Database[dict[str, Any]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def worker(clean: None, loopback_only: ConnectGuard) -> Iterator[Pipeline]:
    yield pipeline()
    assert loopback_only.refused == []


def subscribe(owner: User, receiver: Receiver, *events: T, **fields: Any) -> tuple[Webhook, str]:
    body = WebhookCreate(url=receiver.url, events=list(events), **fields)
    return container.webhook_service().create(principal(owner), body)


def verified(secret: str, request: Any) -> dict[str, Any]:
    payload: dict[str, Any] = Verifier(secret).verify(request.body, request.headers)
    return payload


def test_given_a_subscription_when_a_task_is_created_updated_completed_deleted_then_each_arrives_signed(  # noqa: E501
    db: Db, worker: Pipeline, receiver: Receiver
) -> None:
    # Given an ADMIN subscribed to the task events
    admin = make_user(db, role=Role.ADMIN)
    project = make_project(db, admin)
    types = (T.TASK_CREATED, T.TASK_UPDATED, T.TASK_COMPLETED, T.TASK_DELETED)
    _, secret = subscribe(admin, receiver, *types)
    assert secret.startswith("whsec_")
    tasks, who = container.task_service(), principal(admin)

    # When a task is created, updated, completed and deleted
    task = tasks.create(who, TaskCreate(project_id=project.id, description="Write the tests"))
    worker.run()
    receiver.wait_for(1, poll=worker.run)
    tasks.update(who, task.id, TaskPatch(description="Write more tests"), None)
    receiver.wait_for(2, poll=worker.run)
    tasks.update(who, task.id, TaskPatch(status=TaskStatus.COMPLETED), None)
    receiver.wait_for(3, poll=worker.run)
    tasks.delete(who, task.id, None)
    requests = receiver.wait_for(4, poll=worker.run)

    # Then four deliveries arrive, each verified by the reference library
    bodies = [verified(secret, r) for r in requests]
    assert [b["type"] for b in bodies] == [t.value for t in types]
    audits = {a["eventId"]: a for a in db.audits.find({"entityId": task.id})}
    for request, body in zip(requests, bodies, strict=True):
        # the id is the audit record's eventId, in the body and as webhook-id
        assert body["id"] in audits
        assert request.headers["webhook-id"] == body["id"]
        assert body["actor"] == {"id": admin.id, "role": "ADMIN"}
        assert body["data"]["id"] == task.id
        assert body["data"]["projectId"] == project.id
        assert set(body) == {"id", "type", "occurredAt", "actor", "data", "changes"}
    assert bodies[1]["changes"]["description"] == {
        "from": "Write the tests",
        "to": "Write more tests",
    }
    assert bodies[2]["changes"]["status"]["to"] == "COMPLETED"
    # and each one is recorded delivered, once
    deliveries = list(db.webhook_deliveries.find({}))
    assert len(deliveries) == 4
    assert {d["status"] for d in deliveries} == {"DELIVERED"}
    assert {d["attempt"] for d in deliveries} == {1}


def test_given_a_managers_subscription_then_another_managers_project_never_reaches_it(
    db: Db, worker: Pipeline, receiver: Receiver
) -> None:
    # Given two managers with a project each, and the first subscribed to task.created
    mine_owner, other_owner = make_user(db, role=Role.MANAGER), make_user(db, role=Role.MANAGER)
    mine, others = make_project(db, mine_owner), make_project(db, other_owner)
    _, secret = subscribe(mine_owner, receiver, T.TASK_CREATED)

    # When a task is created in each project
    container.task_service().create(
        principal(other_owner), TaskCreate(project_id=others.id, description="not yours")
    )
    container.task_service().create(
        principal(mine_owner), TaskCreate(project_id=mine.id, description="yours")
    )
    (request,) = receiver.wait_for(1, poll=worker.run)
    time.sleep(0.5)
    worker.run()

    # Then only the task of their own project arrives
    assert len(receiver.received) == 1
    assert verified(secret, request)["data"]["description"] == "yours"


def test_a_manager_subscribes_to_their_own_projects_only_and_never_to_user_events(
    db: Db, clean: None, receiver: Receiver
) -> None:
    manager, other = make_user(db, role=Role.MANAGER), make_user(db, role=Role.MANAGER)
    others = make_project(db, other)
    with pytest.raises(Forbidden):
        subscribe(manager, receiver, T.TASK_CREATED, project_id=others.id)
    with pytest.raises(NotFound):
        subscribe(manager, receiver, T.TASK_CREATED, project_id="0123456789abcdef01234567")
    with pytest.raises(Forbidden):
        subscribe(manager, receiver, T.USER_CREATED)
    with pytest.raises(Forbidden):
        subscribe(make_user(db, role=Role.USER), receiver, T.TASK_CREATED)
    assert db.webhooks.count_documents({}) == 0


def test_given_a_receiver_failing_twice_then_the_third_attempt_delivers_after_growing_delays(
    db: Db, worker: Pipeline, receiver: Receiver
) -> None:
    # Given a receiver that answers 500, 500, then 200
    admin = make_user(db, role=Role.ADMIN)
    webhook, secret = subscribe(admin, receiver, T.PROJECT_CREATED)
    receiver.answer(500, 500)

    # When a project is created
    project = container.project_service().create(principal(admin), _project_body())
    requests = receiver.wait_for(3, timeout=40, poll=worker.run)

    # Then the event arrives three times, the same message each time, with growing gaps
    ids = {r.headers["webhook-id"] for r in requests}
    assert len(ids) == 1
    first_gap, second_gap = requests[1].at - requests[0].at, requests[2].at - requests[1].at
    assert 1.5 <= first_gap < second_gap, (first_gap, second_gap)
    assert verified(secret, requests[2])["data"]["id"] == project.id
    delivery = db.webhook_deliveries.find_one({"webhookId": webhook.id})
    assert delivery is not None
    assert (delivery["status"], delivery["attempt"], delivery["statusCode"]) == (
        "DELIVERED",
        3,
        200,
    )
    # and the owner sees the attempts through the API's service
    (listed,) = (
        container.webhook_service()
        .deliveries(principal(admin), webhook.id, limit=10, cursor=None)
        .items
    )
    assert listed.attempt == 3


def test_given_a_receiver_answering_410_then_the_subscription_is_disabled_with_the_reason(
    db: Db, worker: Pipeline, receiver: Receiver
) -> None:
    admin = make_user(db, role=Role.ADMIN)
    webhook, _ = subscribe(admin, receiver, T.PROJECT_CREATED)
    receiver.answer(410)

    container.project_service().create(principal(admin), _project_body())
    receiver.wait_for(1, poll=worker.run)
    _wait(lambda: not _stored(db, webhook.id)["enabled"], worker)

    stored = container.webhook_service().get(principal(admin), webhook.id)
    assert stored.enabled is False
    assert stored.disabled_reason is not None
    assert "410 Gone" in stored.disabled_reason
    # and the next event is not even queued for it
    container.project_service().create(principal(admin), _project_body())
    time.sleep(0.5)
    worker.run()
    assert len(receiver.received) == 1
    assert db.webhook_deliveries.count_documents({"webhookId": webhook.id}) == 1


def test_redeliver_sends_the_same_event_again(db: Db, worker: Pipeline, receiver: Receiver) -> None:
    admin = make_user(db, role=Role.ADMIN)
    webhook, secret = subscribe(admin, receiver, T.PROJECT_CREATED)
    container.project_service().create(principal(admin), _project_body())
    (first,) = receiver.wait_for(1, poll=worker.run)
    delivery = db.webhook_deliveries.find_one({"webhookId": webhook.id})
    assert delivery is not None
    _wait(lambda: _delivery(db, webhook.id)["status"] == "DELIVERED", worker)

    again = container.webhook_service().redeliver(
        principal(admin), webhook.id, str(delivery["_id"])
    )
    assert again.status.value == "PENDING"
    _, second = receiver.wait_for(2, poll=worker.run)

    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert verified(secret, second) == verified(secret, first)


def test_after_a_rotation_both_secrets_verify_for_24_hours_then_only_the_new_one(
    db: Db, worker: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a subscription whose secret was rotated
    admin = make_user(db, role=Role.ADMIN)
    webhook, old = subscribe(admin, receiver, T.PROJECT_CREATED)
    rotated, new = container.webhook_service().rotate_secret(principal(admin), webhook.id, None)
    assert new != old
    assert rotated.previous_secret_expires_at is not None

    # When it is pinged now
    container.webhook_service().ping(principal(admin), webhook.id)
    (now_request,) = receiver.wait_for(1, poll=worker.run)

    # Then both secrets verify it
    assert verified(old, now_request)["type"] == "webhook.ping"
    assert verified(new, now_request)["data"] == {"webhookId": webhook.id}
    assert len(now_request.headers["webhook-signature"].split(" ")) == 2

    # When it is pinged 24 h later (the worker's clock, and the receiver's, a day ahead)
    later = utcnow() + timedelta(hours=24, seconds=1)
    deliverer = container.webhook_deliverer()
    monkeypatch.setattr(deliverer, "_clock", lambda: later)
    monkeypatch.setattr(reference, "datetime", _clock_at(later))
    container.webhook_service().ping(principal(admin), webhook.id)
    _, later_request = receiver.wait_for(2, poll=worker.run)

    # Then only the new secret verifies it
    assert verified(new, later_request)["type"] == "webhook.ping"
    with pytest.raises(WebhookVerificationError):
        verified(old, later_request)


def test_the_secret_is_stored_encrypted_and_never_audited(
    db: Db, clean: None, receiver: Receiver
) -> None:
    admin = make_user(db, role=Role.ADMIN)
    webhook, secret = subscribe(admin, receiver, T.TASK_CREATED)
    container.audit_trail().flush()

    stored = db.webhooks.find_one({"_id": _oid(webhook.id)})
    assert stored is not None
    dump = json.dumps(stored, default=str)
    assert secret not in dump
    assert secret.removeprefix("whsec_") not in dump
    assert set(stored["secret"]) == {"dataKey", "nonce", "ciphertext"}
    assert container.webhook_secrets().open(stored["secret"]) == secret
    for event in stored.get("outbox", {}).values():
        assert "secret" not in event["changes"]


def test_a_redelivered_audit_message_creates_no_second_delivery(
    db: Db, worker: Pipeline, receiver: Receiver
) -> None:
    # Given an event the consumer stored and fanned out
    admin = make_user(db, role=Role.ADMIN)
    webhook, _ = subscribe(admin, receiver, T.PROJECT_CREATED)
    container.project_service().create(principal(admin), _project_body())
    receiver.wait_for(1, poll=worker.run)
    record = db.audits.find_one({"entity": "PROJECT"})
    assert record is not None

    # When the same audit message is consumed again
    wire = {
        key: record[key]
        for key in ("eventId", "actorId", "actorRole", "action", "entity", "entityId", "detail")
    } | {
        "changes": record["changes"],
        "requestId": record["requestId"],
        "occurredAt": record["createdAt"].replace(tzinfo=UTC).isoformat(),
    }
    fanout = container.webhook_fanout()
    queued: list[int] = []
    new = record_message(
        json.dumps(wire),
        container.repositories().audits,
        stored=lambda e: queued.append(fanout.publish(e)),
    )
    time.sleep(0.5)
    worker.run()

    # Then nothing is stored, queued or sent twice
    assert new is False
    assert queued == [0]
    assert db.webhook_deliveries.count_documents({"webhookId": webhook.id}) == 1
    assert len(receiver.received) == 1


def test_a_subscription_failing_for_three_days_is_disabled_and_says_why(
    db: Db, worker: Pipeline, receiver: Receiver
) -> None:
    # Given a subscription whose attempts have failed for (almost) three days
    admin = make_user(db, role=Role.ADMIN)
    webhook, _ = subscribe(admin, receiver, T.PROJECT_CREATED)
    three_days_ago = utcnow() - timedelta(days=3)
    db.webhooks.update_one({"_id": _oid(webhook.id)}, {"$set": {"failingSince": three_days_ago}})
    receiver.answer(503)

    # When the next attempt fails too
    container.project_service().create(principal(admin), _project_body())
    receiver.wait_for(1, poll=worker.run)
    _wait(lambda: not _stored(db, webhook.id)["enabled"], worker)

    # Then the subscription is disabled, the reason visible to its owner, and nothing retried
    reason = container.webhook_service().get(principal(admin), webhook.id).disabled_reason
    assert reason is not None
    assert reason.startswith("Every attempt failed since")
    assert "answered 503" in reason
    assert _delivery(db, webhook.id)["status"] == "FAILED"
    # and the owner can resume it, which forgets the reason
    resumed = container.webhook_service().update(
        principal(admin), webhook.id, WebhookPatch(enabled=True), None
    )
    assert (resumed.enabled, resumed.disabled_reason, resumed.failing_since) == (True, None, None)


# --- helpers -----------------------------------------------------------------------------------


def _project_body() -> ProjectCreate:
    return ProjectCreate(name=f"Webhooks {time.monotonic_ns()}")


def _oid(id_: str) -> ObjectId:
    return ObjectId(id_)


def _stored(db: Db, webhook_id: str) -> dict[str, Any]:
    doc = db.webhooks.find_one({"_id": _oid(webhook_id)})
    assert doc is not None
    return doc


def _delivery(db: Db, webhook_id: str) -> dict[str, Any]:
    doc = db.webhook_deliveries.find_one({"webhookId": webhook_id})
    assert doc is not None
    return doc


def _wait(condition: Any, worker: Pipeline, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        worker.run()
        time.sleep(0.05)


def _clock_at(instant: datetime) -> type[datetime]:
    class Shifted(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Shifted:
            return cls.fromtimestamp(instant.timestamp(), tz or UTC)

    return Shifted
