"""The audit consumer (SPEC §7): Powertools batch processing with partial batch responses,
idempotent on `eventId`, and poison messages on their way to the dead-letter queue.

Batches are SAM's sample SQS event with our records swapped in; the last case goes through the
real queue, whose redrive policy moves a message to the DLQ after 3 receives.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import LocalContext, handler_at
from devtools.worker import sqs_event
from tests.factories import audit_event, make_user
from tests.integration.lambda_events import AuditQueue, Handler
from todo_common.indexes import ensure_indexes
from todo_common.principal import Role
from todo_common.repositories.audits import AuditRepository

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:todo-audit"
MAX_RECEIVE_COUNT = 3  # the audit queue's redrive policy


@pytest.fixture
def consumer(clean: None) -> Handler:
    return handler_at("audit_consumer")


def message(body: str) -> dict[str, Any]:
    """A message as `receive_message` returns it."""
    return {"MessageId": str(uuid.uuid4()), "ReceiptHandle": uuid.uuid4().hex, "Body": body}


def consume(consumer: Handler, *bodies: str) -> tuple[list[str], set[str]]:
    """Hand one batch to the consumer; returns its message ids and the ids it reported failed."""
    messages = [message(body) for body in bodies]
    result = consumer(sqs_event(messages, QUEUE_ARN), LocalContext("AuditConsumerFunction"))
    assert set(result) == {"batchItemFailures"}
    failed = [item["itemIdentifier"] for item in result["batchItemFailures"]]
    assert len(failed) == len(set(failed))
    return [m["MessageId"] for m in messages], set(failed)


def assert_recorded_as_sent(db: Db, event: dict[str, Any]) -> None:
    """The record holds the event's fields, `createdAt` when it happened, `updatedAt` when
    recorded."""
    record = db.audits.find_one({"eventId": event["eventId"]})
    assert record is not None
    for key in ("actorId", "actorRole", "action", "entity", "entityId", "detail", "changes"):
        assert record[key] == event[key], key
    assert record["requestId"] == event["requestId"]
    assert record["createdAt"] == datetime.fromisoformat(event["occurredAt"])
    assert record["updatedAt"] >= record["createdAt"]


def test_given_a_batch_with_a_poison_and_a_misshapen_record_when_consumed_then_only_they_fail(
    db: Db, consumer: Handler
) -> None:
    # Given a batch of three audit events, a body that is not JSON and one that is no event
    admin = make_user(db, role=Role.ADMIN)
    good = [
        audit_event(actor=admin, action="CREATE", entity="PROJECT", detail="CREATE_PROJECT"),
        audit_event(
            actor=admin,
            action="UPDATE",
            entity="TASK",
            detail="UPDATE_TASK",
            changes={"description": {"from": "a", "to": "b"}},
        ),
        audit_event(action="LOGIN_FAILED", entity="SESSION", detail="LOGIN_FAILED_UNKNOWN_EMAIL"),
    ]
    bodies = [
        json.dumps(good[0]),
        "{this is not json",
        json.dumps(good[1]),
        json.dumps({"hello": "world"}),
        json.dumps(good[2]),
    ]

    # When the consumer is handed the batch
    ids, failed = consume(consumer, *bodies)

    # Then it reports exactly the two bad messages failed
    assert failed == {ids[1], ids[3]}
    # and records the three events, once each, as they were sent
    assert db.audits.count_documents({}) == 3
    for event in good:
        assert_recorded_as_sent(db, event)


def test_given_a_recorded_event_when_it_is_delivered_again_then_nothing_new_is_written(
    db: Db, consumer: Handler
) -> None:
    # Given an event the consumer recorded
    event = audit_event(action="DELETE", entity="USER", detail="DELETE_USER")
    _, failed = consume(consumer, json.dumps(event))
    assert failed == set()
    first = db.audits.find_one({"eventId": event["eventId"]})

    # When SQS delivers it again (a new message with the same body), also twice in one batch
    _, failed_again = consume(consumer, json.dumps(event))
    _, failed_twice = consume(consumer, json.dumps(event), json.dumps(event))

    # Then the redeliveries succeed (nothing to retry) and write nothing: one record, unchanged
    assert failed_again == failed_twice == set()
    assert db.audits.count_documents({}) == 1
    assert db.audits.find_one({"eventId": event["eventId"]}) == first


def _without(key: str) -> dict[str, Any]:
    event = audit_event()
    del event[key]
    return event


MISSHAPEN: dict[str, Any] = {
    "a JSON array": [audit_event()],
    "JSON null": None,
    "no eventId": _without("eventId"),
    "no occurredAt": _without("occurredAt"),
    "an unknown action": audit_event(action="PROMOTE"),
    "an unknown entity": audit_event(entity="INVOICE"),
    "an empty entityId": {**audit_event(), "entityId": ""},
    "an unknown field": {**audit_event(), "passwordHash": "$2b$04$x"},
    "a change without `to`": audit_event(changes={"name": {"from": "a"}}),
    "an occurredAt that is no time": {**audit_event(), "occurredAt": "yesterday"},
}


@pytest.mark.parametrize("body", MISSHAPEN.values(), ids=MISSHAPEN.keys())
def test_given_a_body_that_is_no_audit_event_when_consumed_then_it_alone_fails(
    db: Db, consumer: Handler, body: Any
) -> None:
    good = audit_event()
    ids, failed = consume(consumer, json.dumps(body), json.dumps(good))
    assert failed == {ids[0]}
    assert [r["eventId"] for r in db.audits.find()] == [good["eventId"]]


def test_given_a_poison_message_when_received_and_failed_three_times_then_it_ends_in_the_dlq(
    db: Db, consumer: Handler, queue: AuditQueue
) -> None:
    # Given a poison message in the audit queue
    poison_body = "{not an audit event"
    poison = queue.send(poison_body)

    # When the consumer is handed it, next to a good event, three times (each time reporting it
    # failed, and it is visible again at once)
    good_ids = []
    for receive in range(1, MAX_RECEIVE_COUNT + 1):
        event = audit_event(occurred_at=datetime(2026, 2, receive, 9, 0, tzinfo=UTC))
        good_ids.append(queue.send(json.dumps(event)))
        delivery = queue.deliver(consumer, visibility_timeout=0)
        assert set(delivery.message_ids) == {poison, good_ids[-1]}
        assert delivery.failed_ids == {poison}
        assert delivery.receive_counts[poison] == receive

    # Then the next receive no longer finds it in the queue: it moved to the dead-letter queue
    good_ids.append(queue.send(json.dumps(audit_event())))
    delivery = queue.deliver(consumer, visibility_timeout=0)
    assert delivery.message_ids == [good_ids[-1]]
    assert delivery.failed_ids == set()
    assert queue.waiting() == 0
    dead = queue.receive(dlq=True, visibility_timeout=0)
    assert [(m["MessageId"], m["Body"]) for m in dead] == [(poison, poison_body)]
    # and every good event around it was recorded
    assert db.audits.count_documents({}) == MAX_RECEIVE_COUNT + 1


def test_given_indexes_are_created_then_audits_have_a_unique_event_id_and_their_list_indexes(
    db: Db,
) -> None:
    # The unique eventId index is what makes a redelivery write nothing (AuditRepository.record)
    ensure_indexes(db)
    indexes = db.audits.index_information() if "audits" in db.list_collection_names() else {}
    unique = [i for i in indexes.values() if i.get("unique")]
    assert [list(i["key"]) for i in unique] == [[("eventId", 1)]]
    assert {m.document["name"] for m in AuditRepository.indexes} <= set(indexes)
