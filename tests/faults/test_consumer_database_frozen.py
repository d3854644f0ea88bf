"""MongoDB stops answering while the audit consumer writes a batch: nothing lost, nothing twice.

The records that could not be written are reported failed; SQS delivers them again after the
visibility timeout (shortened here), and the consumer writes each `eventId` once, also when
MongoDB applied a write the consumer had given up on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from pymongo.database import Database

from tests.e2e.support import wait_for
from tests.factories import audit_event
from tests.faults.conftest import LocalServer

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

pytestmark = pytest.mark.e2e

BATCH = 10
FROZEN_SECONDS = 4.0
RETRY_AFTER_SECONDS = 2  # the queue's visibility timeout during the test
RECORDED_WITHIN_SECONDS = 40.0


@pytest.fixture
def quick_redelivery(audit_queue: tuple[SQSClient, str]) -> Iterator[tuple[SQSClient, str]]:
    """The audit queue, redelivering an unacknowledged message after 2 s instead of 60 s."""
    sqs, queue_url = audit_queue
    before = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"VisibilityTimeout": str(RETRY_AFTER_SECONDS)}
    )
    # A receive takes the queue's timeout when it starts: let the worker's current long poll
    # (1 s) end, so its next receive hides a failed message for 2 s, not 60 s.
    time.sleep(2)
    yield sqs, queue_url
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=before["Attributes"])


def test_a_batch_consumed_while_mongodb_is_frozen_is_recorded_once_when_it_is_back(
    db: Database[dict[str, Any]],
    quick_redelivery: tuple[SQSClient, str],
    mongo_server: LocalServer,
) -> None:
    sqs, queue_url = quick_redelivery
    events = [audit_event(detail=f"FAULT_{n}") for n in range(BATCH)]

    # Given a batch of audit events on the queue, when MongoDB stops answering as the
    # gateway's worker hands them to the consumer
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "MessageBody": json.dumps(e)} for n, e in enumerate(events)],
    )
    with mongo_server.frozen():
        time.sleep(FROZEN_SECONDS)

    # Then, once it is back, every event is recorded, each exactly once
    event_ids = [e["eventId"] for e in events]

    def all_recorded() -> bool:
        return db["audits"].count_documents({"eventId": {"$in": event_ids}}) >= BATCH

    wait_for(all_recorded, RECORDED_WITHIN_SECONDS, f"all {BATCH} events recorded")
    time.sleep(RETRY_AFTER_SECONDS * 2)  # a late redelivery would have landed by now
    recorded = list(db["audits"].find({"eventId": {"$in": event_ids}}, {"eventId": 1}))
    assert sorted(r["eventId"] for r in recorded) == sorted(event_ids)
