"""The smoke scenario in the Lambda runtime, fed only by the built artifacts (issue 10).

Every function runs in its own RIE process with `awslambdaric`, with only its built folder and the
layer on `PYTHONPATH`; the gateway and the worker invoke them over the RIE's HTTP API. What runs
is what `sam build` ships, in the runtime AWS uses, not the source tree in the development venv.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from devtools.artifacts import HostBuild
from devtools.lambda_env import function_environment
from devtools.rie import FunctionProcess
from devtools.template import Template
from devtools.worker import sqs_event
from tests.e2e.support import wait_for_audits
from tests.factories import DEFAULT_PASSWORD, make_user
from todo_common.audit.events import AuditAction, AuditEntity, AuditEvent
from todo_common.clients import get_database, get_redis
from todo_common.principal import Role

pytestmark = pytest.mark.lambda_runtime

Db = Database[dict[str, Any]]


@pytest.fixture
def db(lambda_url: str) -> Db:
    database = get_database()
    for name in database.list_collection_names():
        database[name].delete_many({})
    get_redis().flushdb()
    return database


@pytest.fixture
def api(lambda_url: str, db: Db) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lambda_url, timeout=60) as client:
        yield client


def _login(api: httpx.Client, email: str) -> dict[str, str]:
    response = api.post("/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_given_the_built_functions_in_the_lambda_runtime_when_a_task_is_done_then_trail_and_report_show_it(  # noqa: E501
    api: httpx.Client, db: Db
) -> None:
    admin = make_user(db, role=Role.ADMIN)
    worker = make_user(db, role=Role.USER)
    as_admin = _login(api, admin.email)
    as_worker = _login(api, worker.email)

    project = api.post(
        "/projects", json={"name": "Apollo", "description": "to the moon"}, headers=as_admin
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    task = api.post(
        "/tasks",
        json={"projectId": project_id, "description": "Launch", "assignedTo": worker.id},
        headers=as_admin,
    )
    assert task.status_code == 201, task.text
    assert task.json()["status"] == "ASSIGNED"
    task_id = task.json()["id"]

    done = api.patch(f"/tasks/{task_id}", json={"status": "COMPLETED"}, headers=as_worker)
    assert done.status_code == 200, done.text
    assert done.json()["completedAt"] is not None

    # The audit trail: sent to SQS by the tasks function, delivered by the worker to the consumer.
    [completed] = wait_for_audits(
        api, as_admin, 1, {"entity": "TASK", "entityId": task_id, "action": "UPDATE"}
    )
    assert completed["detail"] == "COMPLETE_TASK"
    assert completed["actorId"] == worker.id
    summary = api.get(f"/reports/projects/{project_id}/summary", headers=as_admin)
    assert summary.status_code == 200, summary.text
    assert summary.json()["total"] == 1
    assert summary.json()["byStatus"]["COMPLETED"] == 1
    assert summary.json()["completionRate"] == 1.0
    # A forged token: the function's own gate answers 401 with WWW-Authenticate.
    forged = api.get("/users/me", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"].startswith("Bearer")
    # A path no route matches: the $default route (the docs function's RIE) answers 404.
    unrouted = api.get("/no/such/path")
    assert unrouted.status_code == 404
    assert unrouted.headers["content-type"].startswith("application/problem+json")


def test_given_a_batch_with_a_poison_message_when_the_consumer_runs_then_only_it_is_reported(
    template: Template, host_build: HostBuild, db: Db, tmp_path: Path
) -> None:
    fn = template.functions["AuditConsumerFunction"]
    consumer = FunctionProcess(
        fn, host_build, function_environment(template, fn, os.environ), tmp_path / "consumer.log"
    )
    good = AuditEvent(
        event_id=str(uuid.uuid4()),
        actor_id=None,
        actor_role=None,
        action=AuditAction.LOGIN_FAILED,
        entity=AuditEntity.SESSION,
        entity_id="someone@example.com",
        detail="LOGIN_FAILED_UNKNOWN_EMAIL",
        changes={},
        request_id="rie-smoke",
        occurred_at=datetime.now(UTC),
    )
    messages = [
        {"MessageId": "good", "ReceiptHandle": "r1", "Body": json.dumps(good.wire())},
        {"MessageId": "poison", "ReceiptHandle": "r2", "Body": "{not json"},
    ]
    consumer.start()
    try:
        result = consumer.invoke(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:audit"))
    finally:
        consumer.stop()

    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert db["audits"].count_documents({"eventId": good.event_id}) == 1
    assert consumer.init_durations_ms(), "the RIE logged the function's INIT"
