"""The local worker of `make dev`: SQS-triggered functions and schedules from `template.yaml`.

For each SQS event source it receives from the local queue (moto), hands the consumer an event
of the shape `sam local generate-event sqs receive-message` produces, and deletes only the
messages the handler did not report as failed (`ReportBatchItemFailures`); failed ones become
visible again and, after the queue's maxReceiveCount, move to its dead-letter queue. Scheduled
functions (the outbox relay, the audit digest function) run on their rates;
`LOCAL_SCHEDULE_SECONDS` shortens them locally.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import boto3

from devtools.lambda_local import (
    ACCOUNT_ID,
    REGION,
    Handler,
    context_of,
    load_handler,
)
from devtools.template import FunctionDef, QueueTrigger, ScheduleTrigger, Template
from todo_common import container
from todo_common.logs import logger


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda event for received messages, field for field as SAM's sample."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in (m.get("Attributes") or {}).items()},
                "messageAttributes": m.get("MessageAttributes") or {},
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def scheduled_event(rule: str) -> dict[str, Any]:
    return {
        "id": os.urandom(16).hex(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


def schedule_seconds(expression: str) -> float:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if match is None:
        return 60.0
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return float(int(match.group(1)) * unit)


class QueuePoller:
    """Delivers one queue's messages to its function, as the Lambda event source mapping does."""

    def __init__(
        self, trigger: QueueTrigger, fn: FunctionDef, handler: Handler, queue_url: str
    ) -> None:
        self.trigger = trigger
        self.fn = fn
        self.handler = handler
        self.queue_url = queue_url
        self.queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_url.rsplit('/', 1)[-1]}"
        self.sqs = boto3.client("sqs")

    def poll_once(self, wait_seconds: int = 1) -> tuple[int, int]:
        """Receive one batch and deliver it; returns (delivered, failed)."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.trigger.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0, 0
        event = sqs_event(received, self.queue_arn)
        try:
            result = self.handler(event, context_of(self.fn))
        except Exception:  # the whole batch returns to the queue, as in Lambda
            logger.exception("Queue consumer failed", extra={"function": self.fn.logical_id})
            return len(received), len(received)
        failed_ids = (
            {item["itemIdentifier"] for item in ((result or {}).get("batchItemFailures") or [])}
            if self.trigger.reports_failures
            else set()
        )
        done = [m for m in received if m["MessageId"] not in failed_ids]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(received), len(failed_ids)


class Worker:
    def __init__(self, template: Template, loader: Callable[[FunctionDef], Handler] = load_handler):
        self.functions = template.functions
        self.pollers: list[QueuePoller] = []
        self.schedules: list[tuple[ScheduleTrigger, Handler, float]] = []
        override = os.environ.get("LOCAL_SCHEDULE_SECONDS")
        for trigger in template.queue_triggers:
            url = os.environ.get(trigger.queue_url_env or "")
            if not url:
                logger.warning("No local URL for queue", extra={"queue": trigger.queue})
                continue
            fn = template.functions[trigger.function]
            self.pollers.append(QueuePoller(trigger, fn, loader(fn), url))
        for schedule in template.schedules:
            fn = template.functions[schedule.function]
            seconds = float(override) if override else schedule_seconds(schedule.expression)
            self.schedules.append((schedule, loader(fn), seconds))
        self._stop = threading.Event()

    def run_schedules_once(self) -> None:
        for schedule, handler, _ in self.schedules:
            context = context_of(self.functions[schedule.function])
            handler(scheduled_event(f"{schedule.function}-schedule"), context)

    def drain(self, max_batches: int = 100) -> int:
        """Deliver until the queues are empty (tests and benchmarks); returns messages seen.

        Audit events this process wrote are sent by a background thread: wait for it first.
        """
        container.audit_trail().flush()
        seen = 0
        for _ in range(max_batches):
            batch = sum(poller.poll_once(wait_seconds=0)[0] for poller in self.pollers)
            seen += batch
            if batch == 0:
                break
        return seen

    def start(self) -> None:
        for poller in self.pollers:
            threading.Thread(target=self._poll_forever, args=(poller,), daemon=True).start()
        for schedule, handler, seconds in self.schedules:
            threading.Thread(
                target=self._every, args=(schedule, handler, seconds), daemon=True
            ).start()

    def stop(self) -> None:
        self._stop.set()

    def _poll_forever(self, poller: QueuePoller) -> None:
        while not self._stop.is_set():
            try:
                poller.poll_once()
            except Exception:  # keep the worker alive through a queue outage
                logger.exception("Polling failed", extra={"queue": poller.queue_url})
                self._stop.wait(2)

    def _every(self, schedule: ScheduleTrigger, handler: Handler, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                handler(
                    scheduled_event(f"{schedule.function}-schedule"),
                    context_of(self.functions[schedule.function]),
                )
            except Exception:
                logger.exception("Scheduled function failed", extra={"function": schedule.function})
