"""The webhook pipeline in this process, as `make dev`'s worker runs it: the audit queue into the
consumer (which fans out), the delivery queue into the delivery worker, both on the local moto."""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3

from devtools.template import load_template
from devtools.worker import Worker
from tests.gateway import ROOT
from todo_common import container
from todo_common.principal import Principal
from todo_common.records import User

QUEUE_NAMES = (
    "todo-audit",
    "todo-audit-dlq",
    "todo-webhook-deliveries",
    "todo-webhook-deliveries-dlq",
)


def principal(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id="test-session")


def empty_queues() -> None:
    """Delete what earlier tests left in the audit and delivery queues (no purge: moto allows
    one per minute)."""
    container.audit_trail().flush()
    sqs = boto3.client("sqs")
    for name in QUEUE_NAMES:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        while messages := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
        ).get("Messages", []):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )


@dataclass
class Pipeline:
    worker: Worker

    def run(self) -> None:
        """Deliver whatever is visible in the queues now (audit records, then attempts)."""
        self.worker.drain()


def pipeline() -> Pipeline:
    assert os.environ.get("WEBHOOKS_QUEUE_URL"), "the local servers create the delivery queue"
    empty_queues()
    return Pipeline(Worker(load_template(ROOT / "template.yaml")))
