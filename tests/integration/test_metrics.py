"""Business and health metrics (issue 13): each request emits, on stdout, the CloudWatch EMF
lines that CloudWatch turns into the dashboard's and the alarms' metrics, and nothing else.

The functions' real handlers run on API Gateway and SQS events against the local servers; the
test reads what they printed, as CloudWatch Logs would.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import LocalContext, handler_at
from devtools.worker import scheduled_event, sqs_event
from tests.factories import DEFAULT_PASSWORD, audit_event, make_project, make_user
from tests.integration.lambda_events import FunctionApi, UsersApi
from tests.integration.test_audit_outbox import sqs_unreachable
from tests.integration.test_dependencies_down import _closed_port, environment
from tests.observed import EmfLines, LogRecords
from todo_common import container, metrics
from todo_common.instants import utcnow
from todo_common.principal import Role

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
NAMESPACE = "TodoApi/local"  # no POWERTOOLS_METRICS_NAMESPACE here; template.yaml sets one


@pytest.fixture
def users(clean: None) -> UsersApi:
    return UsersApi()


@pytest.fixture
def tasks(clean: None) -> FunctionApi:
    return FunctionApi("tasks")


def only(emf: EmfLines, name: str) -> list[float]:
    """The values of `name` in what was emitted since the last look."""
    return [v for point in emf.named(name) for v in point.values]


def manager_with_project(db: Db, users: UsersApi) -> tuple[str, str]:
    manager = make_user(db, role=Role.MANAGER)
    project = make_project(db, manager)
    return users.token_for(manager.email, DEFAULT_PASSWORD), project.id


# --- business metrics ------------------------------------------------------------------------


def test_creating_a_task_emits_task_created_once_in_the_stage_namespace(
    db: Db, users: UsersApi, tasks: FunctionApi, emf: EmfLines
) -> None:
    token, project_id = manager_with_project(db, users)
    emf.take()

    response = tasks.request(
        "POST", "/tasks", token=token, json={"projectId": project_id, "description": "Write it"}
    )

    assert response.status == 201, response.body
    points = emf.named("TaskCreated")
    assert [p.values for p in points] == [[1.0]]
    assert points[0].unit == "Count"
    assert points[0].namespace == NAMESPACE
    assert points[0].dimension_sets == [["service"]]


def test_a_rejected_task_creation_emits_no_task_created(
    db: Db, users: UsersApi, tasks: FunctionApi, emf: EmfLines
) -> None:
    token, _ = manager_with_project(db, users)
    emf.take()

    response = tasks.request(
        "POST", "/tasks", token=token, json={"projectId": "0" * 24, "description": "Nowhere"}
    )

    assert response.status == 422
    assert only(emf, "TaskCreated") == []


def test_completing_a_task_emits_task_completed_and_other_changes_do_not(
    db: Db, users: UsersApi, tasks: FunctionApi, emf: EmfLines
) -> None:
    token, project_id = manager_with_project(db, users)
    task = tasks.request(
        "POST", "/tasks", token=token, json={"projectId": project_id, "description": "Do"}
    ).json()
    emf.take()

    renamed = tasks.request(
        "PATCH", f"/tasks/{task['id']}", token=token, json={"description": "Do it"}
    )
    assert renamed.status == 200
    assert only(emf, "TaskCompleted") == []

    completed = tasks.request(
        "PATCH", f"/tasks/{task['id']}", token=token, json={"status": "COMPLETED"}
    )
    assert completed.status == 200
    assert only(emf, "TaskCompleted") == [1.0]


def test_a_login_emits_login_succeeded(db: Db, users: UsersApi, emf: EmfLines) -> None:
    user = make_user(db)
    emf.take()

    users.login(user.email, DEFAULT_PASSWORD)

    points = emf.take()
    assert [(p.name, p.values) for p in points if p.name.startswith("Login")] == [
        ("LoginSucceeded", [1.0])
    ]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong password", "WRONG_PASSWORD"),
        ("unknown email", "UNKNOWN_EMAIL"),
        ("inactive", "INACTIVE"),
    ],
)
def test_a_failed_login_emits_login_failed_with_its_reason(
    db: Db, users: UsersApi, emf: EmfLines, case: str, reason: str
) -> None:
    user = make_user(db, is_active=case != "inactive")
    email = "nobody@example.com" if case == "unknown email" else user.email
    password = "not-the-password" if case == "wrong password" else DEFAULT_PASSWORD
    emf.take()

    response = users.request("POST", "/auth/login", json={"email": email, "password": password})

    assert response.status == 401
    failed = emf.named("LoginFailed")
    assert [p.values for p in failed] == [[1.0]]
    # Per function and reason, and per reason alone: the dashboard sums the latter.
    assert failed[0].dimensions["reason"] == reason
    assert sorted(map(sorted, failed[0].dimension_sets)) == [["reason"], ["reason", "service"]]


def test_a_failed_login_logs_the_account_never_the_email(
    db: Db, users: UsersApi, emf: EmfLines, log_records: LogRecords
) -> None:
    user = make_user(db)

    users.request("POST", "/auth/login", json={"email": user.email, "password": "wrong-pass-1"})
    users.request("POST", "/auth/login", json={"email": "Ghost@Example.com", "password": "x" * 8})
    users.request("POST", "/auth/login", json={"email": "ghost@example.com", "password": "y" * 8})

    known, unknown, again = log_records.with_message("Login failed")
    assert known["account"] == user.id
    assert unknown["account"].startswith("email:")
    assert again["account"] == unknown["account"]  # one unknown address, one account key
    written = json.dumps(log_records.records).lower()
    assert "ghost@example.com" not in written
    assert user.email.lower() not in written


def test_throttled_logins_emit_login_throttled(db: Db, users: UsersApi, emf: EmfLines) -> None:
    user = make_user(db)
    for _ in range(5):
        users.request("POST", "/auth/login", json={"email": user.email, "password": "wrong-pw-1"})
    emf.take()

    refused = users.request(
        "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert refused.status == 429
    assert only(emf, "LoginThrottled") == [1.0]


def test_reusing_a_refresh_token_emits_token_reuse_detected(
    db: Db, users: UsersApi, emf: EmfLines
) -> None:
    user = make_user(db)
    pair = users.login(user.email, DEFAULT_PASSWORD)
    first = users.request("POST", "/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status == 200
    emf.take()

    reused = users.request("POST", "/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert reused.status == 401
    assert only(emf, "TokenReuseDetected") == [1.0]


# --- cold starts -------------------------------------------------------------------------------


def test_the_first_invocation_of_an_environment_emits_cold_start_and_the_next_does_not(
    users: UsersApi, emf: EmfLines
) -> None:
    metrics.restored()  # as a fresh (or restored) execution environment
    users.request("GET", "/no-such-route")
    cold = emf.named("ColdStart")
    assert [p.values for p in cold] == [[1.0]]
    assert cold[0].dimensions["function_name"] == "UsersFunction"

    users.request("GET", "/no-such-route")
    assert only(emf, "ColdStart") == []


# --- the audit trail's health ------------------------------------------------------------------


def test_the_consumer_emits_recorded_events_their_lag_and_skipped_duplicates(
    clean: None, emf: EmfLines
) -> None:
    consumer = handler_at("audit_consumer")
    late = audit_event(occurred_at=utcnow() - timedelta(seconds=90))
    fresh = audit_event()
    messages = [
        {"MessageId": str(n), "ReceiptHandle": str(n), "Body": json.dumps(body)}
        for n, body in enumerate([late, fresh, late])  # the last one: a redelivery
    ]

    result = consumer(
        sqs_event(messages, "arn:aws:sqs:us-east-1:1:q"), LocalContext("AuditConsumerFunction")
    )

    assert result == {"batchItemFailures": []}
    points = {p.name: p for p in emf.take()}
    assert points["AuditEventsRecorded"].values == [1.0, 1.0]
    assert points["AuditDuplicatesSkipped"].values == [1.0]
    lag = points["AuditLagSeconds"]
    assert lag.unit == "Seconds"
    assert 90 <= lag.values[0] < 90 + 60
    assert 0 <= lag.values[1] < 60


def test_the_relay_reports_the_backlog_and_the_age_of_its_oldest_event(
    db: Db, users: UsersApi, emf: EmfLines
) -> None:
    user = make_user(db)
    with sqs_unreachable():
        users.login(user.email, DEFAULT_PASSWORD)  # its LOGIN event waits in audit_outbox
        users.login(user.email, DEFAULT_PASSWORD)
        container.audit_trail().flush()
        emf.take()
        relay = handler_at("audit_consumer", "relay.handler")
        relay(scheduled_event("test"), LocalContext("AuditRelayFunction"))
    points = emf.take()
    by_name = {p.name: p for p in points}

    assert by_name["OutboxBacklog"].values == [2.0]
    assert by_name["OutboxOldestAgeSeconds"].unit == "Seconds"
    assert 0 <= by_name["OutboxOldestAgeSeconds"].values[0] < 60
    # SQS is still down: the relay's attempt counts as the outage it met
    down = [p.dimensions["dependency"] for p in points if p.name == "DependencyUnavailable"]
    assert down == ["SQS"]


# --- dependencies that are down -----------------------------------------------------------------


def test_a_request_that_finds_redis_down_emits_dependency_unavailable_redis(
    db: Db, users: UsersApi, emf: EmfLines
) -> None:
    user = make_user(db)
    with environment(REDIS_PORT=str(_closed_port())):
        response = users.request(
            "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
        )

    assert response.status == 503
    down = emf.named("DependencyUnavailable")
    assert [(p.dimensions["dependency"], p.values) for p in down] == [("Redis", [1.0])]
    # Also without `service`: one alarm sums MongoDB, Redis and SQS whichever function saw it.
    assert ["dependency"] in down[0].dimension_sets


def test_a_request_that_finds_mongodb_down_emits_dependency_unavailable_mongodb(
    users: UsersApi, emf: EmfLines, clean: None
) -> None:
    with environment(DATABASE_URI=f"mongodb://127.0.0.1:{_closed_port()}/"):
        response = users.request(
            "POST", "/auth/login", json={"email": "a@example.com", "password": DEFAULT_PASSWORD}
        )

    assert response.status == 503
    down = emf.named("DependencyUnavailable")
    assert [p.dimensions["dependency"] for p in down] == ["MongoDB"]


def test_an_audit_event_that_cannot_reach_sqs_emits_dependency_unavailable_sqs(
    db: Db, users: UsersApi, emf: EmfLines
) -> None:
    user = make_user(db)
    with sqs_unreachable():
        users.login(user.email, DEFAULT_PASSWORD)
        container.audit_trail().flush()  # the send happens after the response

    down = emf.named("DependencyUnavailable")
    assert [p.dimensions["dependency"] for p in down] == ["SQS"]


# --- locally, for people ---------------------------------------------------------------


def test_with_text_logs_a_metric_is_one_readable_log_line_not_emf_json(
    db: Db, users: UsersApi, emf: EmfLines, log_records: LogRecords
) -> None:
    user = make_user(db)
    metrics.render_readable(True)

    users.request("POST", "/auth/login", json={"email": user.email, "password": "wrong-pass-2"})

    assert emf.take() == []
    lines = [r["message"] for r in log_records.records if r["message"].startswith("metrics ")]
    assert "metrics LoginFailed=1 Count [reason=WRONG_PASSWORD service=" in lines[0]


def test_no_metric_is_left_behind_by_a_request_that_emits_none(
    users: UsersApi, emf: EmfLines, clean: None
) -> None:
    users.request("GET", "/no-such-route")
    users.request("GET", "/no-such-route")

    assert [p.name for p in emf.take() if p.name != "ColdStart"] == []
