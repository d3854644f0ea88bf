"""Audit benchmarks: the consumer's throughput, and what publishing adds to a write.

- Consumer: records per second through the audit consumer's handler, in batches of 10 (SQS
  events of SAM's shape), each record validated and inserted once.
- Publishing: `PATCH /tasks/{id}` through the tasks handler with the audit queue configured
  (event stored with the change, sent to SQS, cleared from the outbox) against the same write
  with no queue (event stored with the change only). Target: the difference is at most 10% of
  the write's p50.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from benchmarks.events import ensure_admin, http_event, lambda_context, load_function
from benchmarks.measure import repeat_ms, row
from todo_common import container
from todo_common.audit.events import AuditAction, AuditEntity, new_event
from todo_common.clients import get_database
from todo_common.models import Principal, Role

BATCH = 10


def _sqs_batch(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "123456789012",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:todo-audit",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def consumer_throughput(records: int = 1_000) -> None:
    consumer = load_function("audit_consumer")
    actor = Principal("0" * 24, Role.ADMIN, "bench")
    bodies = [
        json.dumps(
            new_event(
                actor=actor,
                action=AuditAction.UPDATE,
                entity=AuditEntity.TASK,
                entity_id=f"{i:024x}",
                detail="UPDATE_TASK",
            ).wire()
        )
        for i in range(records)
    ]
    batches = [_sqs_batch(bodies[i : i + BATCH]) for i in range(0, records, BATCH)]
    start = time.perf_counter()
    for batch in batches:
        if consumer(batch, lambda_context())["batchItemFailures"]:
            raise RuntimeError("the consumer reported failures")
    elapsed = time.perf_counter() - start
    print(f"\n# Audit consumer: {records:,} records in batches of {BATCH}")
    print(
        f"{'records per second':<44} {records / elapsed:10.0f}   "
        f"({elapsed / len(batches) * 1000:.2f} ms per batch)"
    )


def _patch_timings(
    handler: Any, event_for: Callable[[int], dict[str, Any]], runs: int
) -> list[float]:
    counter = iter(range(10**9))
    return repeat_ms(lambda: handler(event_for(next(counter)), lambda_context()), runs)


def publish_overhead(runs: int = 300) -> None:
    email, password = ensure_admin()
    users = load_function("users")
    tasks = load_function("tasks")
    login = users(
        http_event("POST", "/auth/login", body={"email": email, "password": password}),
        lambda_context(),
    )
    auth = {"authorization": f"Bearer {json.loads(login['body'])['access_token']}"}
    db = get_database()
    owner = str(db.users.find_one({"email": email}, {"_id": 1})["_id"])  # type: ignore[index]
    projects = load_function("projects")
    project = json.loads(
        projects(
            http_event("POST", "/projects", headers=auth, body={"name": "bench audit"}),
            lambda_context(),
        )["body"]
    )
    task = json.loads(
        tasks(
            http_event(
                "POST",
                "/tasks",
                headers=auth,
                body={"projectId": project["id"], "description": "x"},
            ),
            lambda_context(),
        )["body"]
    )

    def event_for(n: int) -> dict[str, Any]:
        return http_event(
            "PATCH", f"/tasks/{task['id']}", headers=auth, body={"description": f"change {n}"}
        )

    queue_url = os.environ.get("AUDIT_QUEUE_URL", "")
    figures = {}
    for label, url in (("without publishing", ""), ("with publishing", queue_url)):
        os.environ["AUDIT_QUEUE_URL"] = url
        _forget_settings()
        figures[label] = _patch_timings(tasks, event_for, runs)
    os.environ["AUDIT_QUEUE_URL"] = queue_url
    _forget_settings()
    base = statistics.median(figures["without publishing"])
    extra = statistics.median(figures["with publishing"]) - base
    print(
        f"\n# PATCH /tasks/{{id}} with and without audit publishing ({runs} calls each; "
        f"owner {owner[:6]}…)"
    )
    row("write, event stored with the change only", figures["without publishing"])
    row(
        "write + send to SQS + clear the outbox",
        figures["with publishing"],
        figures["without publishing"],
    )
    verdict = "met" if extra <= 0.10 * base else "NOT met"
    print(
        f"{'publishing adds':<44} {extra:8.2f} ms = {extra / base:.0%} of the write's p50 "
        f"(target <= 10%: {verdict})"
    )


def _forget_settings() -> None:
    from todo_common.settings import get_settings

    get_settings.cache_clear()
    container.reset()
