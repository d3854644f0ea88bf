"""One request followed end to end (issue 13): its `X-Request-Id` is the correlation id of every
log line it causes, in the function that served it, in the audit sender thread, in the relay and
in the audit consumer, and it is the `requestId` of its audit record; so one Logs Insights query
(`filter correlation_id = "<id>"`, docs/operations.md) tells the whole story.

The requests, the queue (moto) and the consumer are real; the log records are what the Powertools
logger would write to CloudWatch; metrics are EMF lines on stdout there (`emf`), not log records.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import LocalContext, handler_at
from devtools.worker import scheduled_event
from tests.factories import DEFAULT_PASSWORD, make_project, make_user
from tests.integration.lambda_events import AuditQueue, FunctionApi, UsersApi
from tests.integration.test_audit_outbox import sqs_unreachable
from tests.observed import EmfLines, LogRecords
from todo_common import container
from todo_common.principal import Role

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]


def story(log_records: LogRecords, request_id: str) -> list[str]:
    """The messages of the log lines the query `filter correlation_id = request_id` returns."""
    return [r["message"] for r in log_records.records if r.get("correlation_id") == request_id]


def create_task(db: Db, request_id: str) -> tuple[FunctionApi, dict[str, Any]]:
    manager = make_user(db, role=Role.MANAGER)
    project = make_project(db, manager)
    token = UsersApi().token_for(manager.email, DEFAULT_PASSWORD)
    tasks = FunctionApi("tasks")
    response = tasks.request(
        "POST",
        "/tasks",
        token=token,
        json={"projectId": project.id, "description": "Follow me"},
        headers={"X-Request-Id": request_id},
    )
    assert response.status == 201, response.body
    assert response.headers["x-request-id"] == request_id
    return tasks, response.json()


def test_a_request_its_audit_event_and_the_consumer_share_one_correlation_id(
    db: Db, queue: AuditQueue, log_records: LogRecords, emf: EmfLines
) -> None:
    request_id = f"story-{uuid.uuid4()}"

    # Given a task created with an X-Request-Id
    _, task = create_task(db, request_id)
    # When its audit event goes through SQS to the consumer
    delivery = queue.deliver(handler_at("audit_consumer"))
    assert delivery.failed_ids == set()

    # Then one query on the request id finds the request and the recording of its event
    assert story(log_records, request_id) == ["Request handled", "Audit event recorded"]
    handled, recorded = (r for r in log_records.records if r.get("correlation_id") == request_id)
    assert handled["route"] == "/tasks"
    assert handled["status"] == 201
    assert handled["method"] == "POST"
    assert handled["duration_ms"] >= 0
    assert recorded["action"] == "CREATE"
    assert recorded["entity"] == "TASK"
    assert recorded["service"] == handled["service"]  # one process here; a function each in AWS
    # and the audit record says which request it came from
    record = db["audits"].find_one({"entityId": task["id"]})
    assert record is not None
    assert record["requestId"] == request_id


def test_an_event_that_waited_for_sqs_is_relayed_and_recorded_under_its_request_id(
    db: Db, queue: AuditQueue, log_records: LogRecords, emf: EmfLines
) -> None:
    request_id = f"story-{uuid.uuid4()}"

    # Given a task created while SQS could not be reached
    with sqs_unreachable():
        create_task(db, request_id)
        container.audit_trail().flush()
    # When the relay runs once SQS is back, and the consumer gets the event
    relay = handler_at("audit_consumer", "relay.handler")
    relay(scheduled_event("test"), LocalContext("AuditRelayFunction"))
    queue.deliver(handler_at("audit_consumer"))

    # Then the story has the failed send (the sender thread, which may log before the request's
    # own line), the relay and the recording
    told = story(log_records, request_id)
    assert sorted(told[:2]) == [
        "Audit event kept in the outbox: SQS unavailable",
        "Request handled",
    ]
    assert told[2:] == ["Audit event relayed", "Audit event recorded"]


def test_a_request_of_an_unrouted_path_is_logged_without_its_path(
    clean: None, log_records: LogRecords
) -> None:
    request_id = f"story-{uuid.uuid4()}"
    response = UsersApi().request(
        "GET", "/secret-looking/ab12cd", headers={"X-Request-Id": request_id}
    )

    assert response.status == 404
    (handled,) = (r for r in log_records.records if r.get("correlation_id") == request_id)
    assert handled["route"] == "(unrouted)"
    assert handled["status"] == 404
    assert "ab12cd" not in str(handled)
