"""Audit benchmarks: the consumer's throughput, and what publishing adds to a write.

- Consumer: records per second through the audit consumer's handler, in batches of 10 (SQS
  events of SAM's shape), each record validated and inserted once.
- Publishing: `PATCH /tasks/{id}` through the tasks handler with the audit queue configured
  (event stored with the change, sent to SQS, cleared from the outbox) against the same write
  with no queue (event stored with the change only), in blocks taken in turn, with a pause
  after each call for the local servers (moto, FerretDB) to finish what the send gave them: on
  this machine they compete with the function for its two cores, in AWS they do not. Without the
  pause the difference varied from 6% to 25% between runs; with it, from -3% to +5%. Target: the
  difference is at most 10% of the write's p50.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

from benchmarks.events import ensure_admin, http_event, lambda_context, load_function
from benchmarks.measure import repeat_ms, row
from devtools.lambda_local import ACCOUNT_ID, REGION
from devtools.worker import sqs_event
from todo_common import container
from todo_common.audit.events import AuditAction, AuditEntity, new_event
from todo_common.clients import get_database
from todo_common.principal import Principal, Role

BATCH = 10


def _sqs_batch(bodies: list[str]) -> dict[str, Any]:
    messages = [
        {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "bench", "Body": body} for body in bodies
    ]
    return sqs_event(messages, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:todo-audit")


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


BLOCKS = 6
QUIET_SECONDS = 0.03


def publish_overhead(runs: int = 300) -> None:
    """The request path with and without the audit queue; the send itself runs after it."""
    email, password = ensure_admin()
    users, projects, tasks = (load_function(n) for n in ("users", "projects", "tasks"))
    login = users(
        http_event("POST", "/auth/login", body={"email": email, "password": password}),
        lambda_context(),
    )
    auth = {"authorization": f"Bearer {json.loads(login['body'])['access_token']}"}
    project = json.loads(
        projects(
            http_event("POST", "/projects", headers=auth, body={"name": "bench audit"}),
            lambda_context(),
        )["body"]
    )
    db = get_database()
    queue_url = os.environ.get("AUDIT_QUEUE_URL", "")
    configurations = {"without publishing": "", "with publishing": queue_url}
    figures: dict[str, list[float]] = {label: [] for label in configurations}
    task_ids: dict[str, str] = {}
    sends: list[float] = []
    counter = iter(range(10**9))
    # Blocks taken in turn (ABBA…): a slow spell of the machine falls on both configurations.
    for block in range(BLOCKS):
        order = list(configurations) if block % 2 == 0 else list(reversed(configurations))
        for label in order:
            url = configurations[label]
            os.environ["AUDIT_QUEUE_URL"] = url
            _forget_settings()
            if label not in task_ids:
                task_ids[label] = json.loads(
                    tasks(
                        http_event(
                            "POST",
                            "/tasks",
                            headers=auth,
                            body={"projectId": project["id"], "description": "x"},
                        ),
                        lambda_context(),
                    )["body"]
                )["id"]

            def patch(task_id: str = task_ids[label], numbers: Iterator[int] = counter) -> object:
                return tasks(
                    http_event(
                        "PATCH",
                        f"/tasks/{task_id}",
                        headers=auth,
                        body={"description": f"change {next(numbers)}"},
                    ),
                    lambda_context(),
                )

            def settle(publishing: bool = bool(url)) -> None:
                # Untimed: a container's sender finishes between requests; without a queue the
                # events would pile up in the record, which is not what a write costs.
                start = time.perf_counter()
                container.audit_trail().flush()
                if publishing:
                    sends.append((time.perf_counter() - start) * 1000)
                else:
                    db.tasks.update_many({}, {"$set": {"outbox": {}, "outboxCount": 0}})
                # Here SQS (moto) and the database share this machine's two cores: let them
                # finish what a send left them (in AWS that work is not on the function's CPU).
                time.sleep(QUIET_SECONDS)

            figures[label] += repeat_ms(patch, runs // BLOCKS, warmup=5, between=settle)
    os.environ["AUDIT_QUEUE_URL"] = queue_url
    _forget_settings()
    base = statistics.median(figures["without publishing"])
    extra = statistics.median(figures["with publishing"]) - base
    print(f"\n# PATCH /tasks/{{id}} with and without audit publishing ({runs} calls each)")
    row("write, event stored with the change", figures["without publishing"])
    row(
        "write, then the event handed to the sender",
        figures["with publishing"],
        figures["without publishing"],
    )
    verdict = "met" if extra <= 0.10 * base else "NOT met"
    print(
        f"{'publishing adds to the request':<44} {extra:8.2f} ms = {extra / base:.0%} of the "
        f"write's p50 (target <= 10%: {verdict})"
    )
    row("the send + outbox clear, after the response", sends)


def _forget_settings() -> None:
    from todo_common.settings import get_settings

    get_settings.cache_clear()
    container.reset()


def trail_verification(records: int = 5_000, hours: int = 24) -> None:
    """Records per second the digest function seals and the verifier checks (hashes, chain,
    one KMS signature check per digest, the database's copies against the store), on a trail of
    `hours` hourly periods in a database and a write-once bucket of their own."""
    from datetime import timedelta

    import pymongo

    from todo_common.audit.digests import DigestSchedule, DigestService
    from todo_common.audit.store import S3DigestStore, s3_client
    from todo_common.audit.verify import AuditVerifier
    from todo_common.clients import get_mongo_client
    from todo_common.instants import utcnow
    from todo_common.repositories.audit_digests import AuditDigestRepository
    from todo_common.repositories.audits import AuditRepository

    name = "todo_bench_audit_trail"
    get_mongo_client().drop_database(name)
    db = get_mongo_client()[name]
    schedule = DigestSchedule(timedelta(hours=1), timedelta(minutes=5))
    now = utcnow()
    first = schedule.floor(now) - timedelta(hours=hours + 1)
    step = timedelta(hours=hours) / records
    stamped = [first]
    audits = AuditRepository(db, container.server(), clock=lambda: stamped[0])
    actor = Principal("0" * 24, Role.ADMIN, "bench")
    for i in range(records):
        stamped[0] = first + i * step
        event = new_event(
            actor=actor,
            action=AuditAction.UPDATE,
            entity=AuditEntity.TASK,
            entity_id=f"{i:024x}",
            detail="UPDATE_TASK",
        )
        audits.record(event.wire())
    digests = AuditDigestRepository(db, container.server())
    bucket = f"{name.replace('_', '-')}-{time.time_ns()}"  # locked objects stay: a new one each run
    s3_client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    store = S3DigestStore(bucket)
    signer = container.digest_signer()
    with pymongo.timeout(None):  # as the digest function and `verify-audit` run: no budget
        start = time.perf_counter()
        run = DigestService(audits, digests, store, signer, schedule).close_periods(now)
        sealed = time.perf_counter() - start
        start = time.perf_counter()
        # Sealed in one run, hours after the first periods ended: lateness is not measured here.
        verifier = AuditVerifier(
            audits, digests, store, signer, schedule, timedelta(hours=hours + 2)
        )
        result = verifier.verify(utcnow(), None, None)
        checked = time.perf_counter() - start
    if not result.intact or result.records != records:
        raise RuntimeError(f"the benchmark trail did not verify: {result.findings[:3]}")
    print(f"\n# Audit trail: {records:,} records over {run.digests} hourly digests")
    print(f"{'digest function: records per second':<44} {records / sealed:10.0f}")
    print(
        f"{'verifier: records per second':<44} {records / checked:10.0f}   "
        f"({checked * 1000 / run.digests:.2f} ms per period)"
    )
    get_mongo_client().drop_database(name)
