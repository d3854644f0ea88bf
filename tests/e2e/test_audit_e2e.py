"""The audit trail over HTTP (SPEC §3 audits, §6 X-Request-Id, §7): a scripted session through the
gateway, read back from GET /audits while the worker delivers the events in the background.

Every mutation and authentication event of the session leaves exactly one record, with the
actor, the entity and the X-Request-Id of the request that caused it; the trail answers "who
changed this task's status, from what to what" and "which logins failed for this account"; the
CSV export holds the same rows as the JSON. The outbox relay sends what waited and never makes a
second record.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.conftest import bearer
from tests.e2e.support import (
    assert_audits_stay,
    audit_records,
    relay_interval_seconds,
    wait_for,
    wait_for_audits,
    wait_until_queue_drains,
)
from tests.factories import DEFAULT_PASSWORD, make_user
from todo_common.audit.events import AuditAction, AuditEntity, AuditEvent
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.records import User
from todo_common.repositories.audits import AuditOutboxRepository
from todo_common.schemas.reports import AUDIT_CSV_COLUMNS, AuditPublic

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

pytestmark = pytest.mark.e2e

AuditQueue = tuple["SQSClient", str]
NEW_PASSWORD = "audited-password-1"

# The members of an audit record that come from its event (`createdAt` is `occurredAt`).
EVENT_FIELDS = (
    "eventId",
    "actorId",
    "actorRole",
    "action",
    "entity",
    "entityId",
    "detail",
    "changes",
    "requestId",
)


@dataclass(frozen=True)
class Expected:
    """The record one request of the session must leave in the trail."""

    request_id: str
    action: AuditAction
    entity: AuditEntity
    entity_id: str
    actor_id: str | None
    actor_role: Role | None
    detail: str

    def what(self) -> tuple[str, str, str, str | None, str | None, str]:
        """Everything but the request id: who did what to which record."""
        role = self.actor_role.value if self.actor_role else None
        return (self.action, self.entity, self.entity_id, self.actor_id, role, self.detail)


def _what(record: dict[str, Any]) -> tuple[str, str, str, str | None, str | None, str]:
    return (
        record["action"],
        record["entity"],
        record["entityId"],
        record["actorId"],
        record["actorRole"],
        record["detail"],
    )


@dataclass(frozen=True)
class Session:
    """What the scripted session did, and the records it must have left."""

    auditor: dict[str, str]  # an ADMIN's headers, still logged in, for reading the trail
    admin: User
    user_id: str
    project_id: str
    task_id: str
    expected: list[Expected]
    records: list[dict[str, Any]]  # the trail once every expected record has arrived


def _ok(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json() if response.content else {}
    return body


@pytest.fixture
def session(client: httpx.Client, db: Database[dict[str, Any]], audit_queue: AuditQueue) -> Session:
    """Given an ADMIN and a new USER going through a day's work over HTTP, every request
    tagged with its own X-Request-Id."""
    admin = make_user(db, role=Role.ADMIN)
    expected: list[Expected] = []

    def send(
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        records: Callable[[dict[str, Any]], Expected] | None = None,
    ) -> dict[str, Any]:
        request_id = f"audit-e2e-{uuid.uuid4().hex}"
        response = client.request(
            method,
            path,
            json=json_body,
            headers={**(headers or {}), "X-Request-Id": request_id},
        )
        body = _ok(response, status)
        if records is not None:
            expected.append(records({"request_id": request_id, **body}))
        return body

    def event(
        action: AuditAction,
        entity: AuditEntity,
        entity_id: str | Callable[[dict[str, Any]], str],
        actor: tuple[str, Role] | None,
        detail: str,
    ) -> Callable[[dict[str, Any]], Expected]:
        def make(body: dict[str, Any]) -> Expected:
            return Expected(
                request_id=body["request_id"],
                action=action,
                entity=entity,
                entity_id=entity_id(body) if callable(entity_id) else entity_id,
                actor_id=actor[0] if actor else None,
                actor_role=actor[1] if actor else None,
                detail=detail,
            )

        return make

    as_admin = (admin.id, Role.ADMIN)
    S, U, P, T = AuditEntity.SESSION, AuditEntity.USER, AuditEntity.PROJECT, AuditEntity.TASK
    A = AuditAction

    tokens = send(
        "POST",
        "/auth/login",
        200,
        json_body={"email": admin.email, "password": DEFAULT_PASSWORD},
        records=event(A.LOGIN, S, admin.id, as_admin, "LOGIN"),
    )
    admin_headers = bearer(tokens["access_token"])
    user = send(
        "POST",
        "/users",
        201,
        headers=admin_headers,
        json_body={
            "username": "audited",
            "email": "audited@example.com",
            "fullName": "Audited Person",
            "password": NEW_PASSWORD,
        },
        records=event(A.CREATE, U, lambda body: str(body["id"]), as_admin, "CREATE_USER"),
    )
    user_id = str(user["id"])
    send(
        "PATCH",
        f"/users/{user_id}",
        200,
        headers=admin_headers,
        json_body={"fullName": "Audited Renamed"},
        records=event(A.UPDATE, U, user_id, as_admin, "UPDATE_USER"),
    )
    for _ in range(2):
        send(
            "POST",
            "/auth/login",
            401,
            json_body={"email": "audited@example.com", "password": "not-the-password"},
            records=event(A.LOGIN_FAILED, S, user_id, None, "LOGIN_FAILED_WRONG_PASSWORD"),
        )
    send(
        "DELETE",
        f"/users/{user_id}",
        204,
        headers=admin_headers,
        records=event(A.DELETE, U, user_id, as_admin, "DELETE_USER"),
    )
    send(
        "POST",
        f"/users/{user_id}/restore",
        200,
        headers=admin_headers,
        records=event(A.RESTORE, U, user_id, as_admin, "RESTORE_USER"),
    )
    project = send(
        "POST",
        "/projects",
        201,
        headers=admin_headers,
        json_body={"name": "Audited project", "description": "for the trail"},
        records=event(A.CREATE, P, lambda body: str(body["id"]), as_admin, "CREATE_PROJECT"),
    )
    project_id = str(project["id"])
    task = send(
        "POST",
        "/tasks",
        201,
        headers=admin_headers,
        json_body={"projectId": project_id, "description": "Audit me", "assignedTo": user_id},
        records=event(A.CREATE, T, lambda body: str(body["id"]), as_admin, "CREATE_TASK"),
    )
    task_id = str(task["id"])
    assert task["status"] == "ASSIGNED"
    as_user = (user_id, Role.USER)
    user_tokens = send(
        "POST",
        "/auth/login",
        200,
        json_body={"email": "audited@example.com", "password": NEW_PASSWORD},
        records=event(A.LOGIN, S, user_id, as_user, "LOGIN"),
    )
    user_headers = bearer(user_tokens["access_token"])
    send(
        "PATCH",
        f"/tasks/{task_id}",
        200,
        headers=user_headers,
        json_body={"status": "COMPLETED"},
        records=event(A.UPDATE, T, task_id, as_user, "COMPLETE_TASK"),
    )
    send(
        "DELETE",
        f"/projects/{project_id}",
        204,
        headers=admin_headers,
        records=event(A.DELETE, P, project_id, as_admin, "DELETE_PROJECT"),
    )
    send(
        "POST",
        "/auth/logout",
        204,
        headers=user_headers,
        records=event(A.LOGOUT, S, user_id, as_user, "LOGOUT"),
    )

    records = wait_for_audits(client, admin_headers, len(expected))
    return Session(admin_headers, admin, user_id, project_id, task_id, expected, records)


def test_given_a_session_when_the_trail_is_read_then_each_event_is_recorded_exactly_once(
    client: httpx.Client, session: Session
) -> None:
    # When the trail, once complete, is read again and again until the relay has run twice
    assert_audits_stay(
        client, session.auditor, session.records, seconds=min(2 * relay_interval_seconds() + 1, 10)
    )

    # Then it holds one record per mutation and authentication event, with its actor and
    # entity, no event twice, newest first
    assert Counter(_what(r) for r in session.records) == Counter(e.what() for e in session.expected)
    assert len({r["eventId"] for r in session.records}) == len(session.records)
    created = [r["createdAt"] for r in session.records]
    assert created == sorted(created, reverse=True)


def test_given_a_session_when_the_trail_is_read_then_each_record_carries_its_request_id(
    session: Session,
) -> None:
    sent = Counter((e.request_id, e.what()) for e in session.expected)

    recorded = Counter((r["requestId"], _what(r)) for r in session.records)

    assert recorded == sent, (
        "each record's requestId is the X-Request-Id of the request that caused it; "
        f"recorded requestIds: {[r['requestId'] for r in session.records]}"
    )


def test_given_a_request_without_x_request_id_when_it_is_audited_then_the_record_carries_the_generated_one(  # noqa: E501
    api: httpx.Client,
    db: Database[dict[str, Any]],
    audit_queue: AuditQueue,
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
) -> None:
    manager, headers = user_with_token(Role.MANAGER)
    _, auditor = user_with_token(Role.ADMIN)

    response = api.post("/projects", json={"name": "No request id"}, headers=headers)

    body = _ok(response, 201)
    generated = response.headers["x-request-id"]
    assert generated
    [record] = wait_for_audits(api, auditor, 1, {"entity": "PROJECT", "entityId": body["id"]})
    assert record["actorId"] == manager.id
    assert record["requestId"] == generated


def test_given_a_completed_task_when_asking_the_trail_then_it_shows_who_changed_its_status(
    client: httpx.Client, session: Session
) -> None:
    records = audit_records(
        client, session.auditor, {"entity": "TASK", "entityId": session.task_id}
    )

    # Then: created ASSIGNED by the ADMIN, completed by the assignee (the project's delete
    # cascade is part of the project's own record)
    assert [(r["action"], r["detail"]) for r in records] == [
        ("UPDATE", "COMPLETE_TASK"),
        ("CREATE", "CREATE_TASK"),
    ]
    completed, created = records
    assert completed["actorId"] == session.user_id
    assert completed["actorRole"] == "USER"
    assert completed["changes"]["status"] == {"from": "ASSIGNED", "to": "COMPLETED"}
    assert completed["changes"]["completedAt"]["from"] is None
    assert completed["changes"]["completedAt"]["to"]
    assert created["actorId"] == session.admin.id
    assert created["changes"]["status"] == {"from": None, "to": "ASSIGNED"}
    assert created["changes"]["assignedTo"] == {"from": None, "to": session.user_id}


def test_given_failed_logins_when_asking_the_trail_for_the_account_then_they_are_all_there(
    client: httpx.Client, session: Session
) -> None:
    records = audit_records(
        client, session.auditor, {"action": "LOGIN_FAILED", "entityId": session.user_id}
    )

    assert len(records) == 2
    for record in records:
        assert record["entity"] == "SESSION"
        assert record["actorId"] is None
        assert record["actorRole"] is None
        assert record["detail"] == "LOGIN_FAILED_WRONG_PASSWORD"
        assert record["changes"] == {}


def test_given_a_session_then_no_password_or_hash_appears_anywhere_in_the_trail(
    client: httpx.Client, session: Session
) -> None:
    raw = json.dumps(audit_records(client, session.auditor))

    for secret in (NEW_PASSWORD, "not-the-password", DEFAULT_PASSWORD, "$2b$"):
        assert secret not in raw
    assert "passwordHash" not in raw


def _csv_view(record: dict[str, Any]) -> dict[str, str]:
    """A JSON record as its CSV row reads: `changes` as compact JSON, null as empty."""
    row = {}
    for column in AUDIT_CSV_COLUMNS:
        value = record[column]
        if column == "changes":
            value = json.dumps(value, separators=(",", ":"), sort_keys=True)
        row[column] = "" if value is None else str(value)
    return row


@pytest.mark.parametrize(
    "filters",
    [{}, {"entity": "USER"}, {"action": "LOGIN_FAILED"}, {"limit": "5"}],
    ids=["everything", "entity=USER", "action=LOGIN_FAILED", "first-page"],
)
def test_given_a_session_when_exporting_csv_then_the_rows_equal_the_json_rows(
    client: httpx.Client, session: Session, filters: dict[str, str]
) -> None:
    as_json = client.get("/audits", params=filters, headers=session.auditor)

    as_csv = client.get(
        "/audits", params=filters, headers={**session.auditor, "Accept": "text/csv"}
    )

    page = _ok(as_json, 200)
    assert page["items"], "the filter matches something"
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(as_csv.text))
    assert reader.fieldnames == list(AUDIT_CSV_COLUMNS)
    assert set(AUDIT_CSV_COLUMNS) == {info.alias for info in AuditPublic.model_fields.values()}
    assert list(reader) == [_csv_view(r) for r in page["items"]]
    if page["nextCursor"]:
        link = as_csv.headers["link"]
        assert link.startswith("</audits?")
        assert link.endswith('>; rel="next"')
        after = httpx.URL(link[1 : link.index(">")]).params
        assert after["cursor"] == page["nextCursor"]
    else:
        assert "link" not in as_csv.headers


# -- the outbox relay -----------------------------------------------------------------------------


def _relay_deadline() -> float:
    """Two relay runs and a delivery."""
    return 2 * relay_interval_seconds() + 5


def test_given_an_event_left_in_its_records_outbox_when_the_relay_sends_it_again_then_it_is_recorded_once(  # noqa: E501
    client: httpx.Client,
    db: Database[dict[str, Any]],
    audit_queue: AuditQueue,
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
) -> None:
    # Given a project whose CREATE was recorded, but whose outbox still holds the event (the
    # clear after sending was lost: a crash, a timeout)
    _, headers = user_with_token(Role.ADMIN)
    project = _ok(client.post("/projects", json={"name": "Sent twice"}, headers=headers), 201)
    params = {"entity": "PROJECT", "entityId": project["id"]}
    [record] = wait_for_audits(client, headers, 1, params)
    event = AuditEvent.model_validate(
        {**{k: record[k] for k in EVENT_FIELDS}, "occurredAt": record["createdAt"]}
    ).wire()
    db["projects"].update_one(
        {"_id": ObjectId(project["id"])},
        {"$set": {f"outbox.{event['eventId']}": event, "outboxCount": 1}},
    )

    # When the relay runs (and the consumer receives the event a second time)
    sqs, queue_url = audit_queue
    deadline = _relay_deadline()
    wait_for(
        lambda: (
            db["projects"].count_documents({"_id": ObjectId(project["id"]), "outboxCount": 0}) == 1
        ),
        deadline,
        "the relay sends and clears the outbox",
    )
    assert wait_until_queue_drains(sqs, queue_url, deadline)

    # Then the trail still holds the one record, unchanged
    after = audit_records(client, headers, params)
    assert [r["eventId"] for r in after] == [record["eventId"]], (
        f"a second delivery of one eventId wrote another record: {after}"
    )
    assert after == [record]


def test_given_a_login_event_waiting_in_the_audit_outbox_when_the_relay_runs_then_it_is_recorded_once(  # noqa: E501
    client: httpx.Client,
    db: Database[dict[str, Any]],
    audit_queue: AuditQueue,
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
) -> None:
    # Given a logout that could not reach SQS, kept in `audit_outbox`
    _, headers = user_with_token(Role.ADMIN)
    someone = make_user(db)
    event = AuditEvent(
        event_id=str(uuid.uuid4()),
        actor_id=someone.id,
        actor_role=someone.role.value,
        action=AuditAction.LOGOUT,
        entity=AuditEntity.SESSION,
        entity_id=someone.id,
        detail="LOGOUT",
        request_id="kept-while-sqs-was-down",
        occurred_at=utcnow(),
    )
    AuditOutboxRepository(db).keep(event.wire())

    # When the relay runs
    params = {"action": "LOGOUT", "entityId": someone.id}
    [record] = wait_for_audits(client, headers, 1, params, deadline_seconds=_relay_deadline())

    # Then it is recorded as it happened, once, and the outbox is empty
    assert record["eventId"] == event.event_id
    assert record["requestId"] == "kept-while-sqs-was-down"
    assert datetime.fromisoformat(record["createdAt"]) == event.occurred_at
    wait_for(
        lambda: db["audit_outbox"].count_documents({}) == 0, _relay_deadline(), "outbox emptied"
    )
    assert_audits_stay(client, headers, [record], seconds=1, params=params)
