"""Nothing is lost when SQS cannot be reached (SPEC §7): the request succeeds, its event waits in
the outbox of the very document it changed (or in `audit_outbox` for session events), and the
scheduled relay sends it once SQS is back, exactly once.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import LocalContext, handler_at
from devtools.template import load_template
from devtools.worker import Worker, scheduled_event
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import ROOT, AuditQueue, FunctionApi, UsersApi
from todo_common import container
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
RECORD_COLLECTIONS = ("users", "projects", "tasks")


def _closed_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sqs_unreachable() -> Iterator[None]:
    """SQS as a cold start would see it with nothing answering at its endpoint."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{_closed_port()}")
        container.reset()
        yield
    container.reset()  # the real endpoint is back: forget the client built for the closed one


def run_relay() -> dict[str, int]:
    """The relay function, invoked as the schedule invokes it."""
    relay = handler_at("audit_consumer", "relay.handler")
    result: dict[str, int] = relay(scheduled_event("test"), LocalContext("AuditRelayFunction"))
    return result


@dataclass(frozen=True)
class Waiting:
    """One event the requests left behind: where it waits and what it says."""

    place: str  # the collection of the changed document, or audit_outbox
    document_id: str | None
    action: str
    entity: str
    entity_id: str
    detail: str


@dataclass(frozen=True)
class Outage:
    admin: User
    ids: dict[str, str]
    expected: list[Waiting]


def change_things_while_sqs_is_down(db: Db) -> Outage:
    """Logins, a failed login, creates, an update, a cascading delete and a logout, each 2xx
    (or the 401 of the failed login) although no event can be sent."""
    admin = make_user(db, role=Role.ADMIN)
    users, projects, tasks = UsersApi(), FunctionApi("projects"), FunctionApi("tasks")
    login = users.request(
        "POST", "/auth/login", json={"email": admin.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status == 200, login.body
    token = login.json()["access_token"]
    failed = users.request(
        "POST", "/auth/login", json={"email": admin.email, "password": "not-the-password"}
    )
    assert failed.status == 401
    user = users.request(
        "POST",
        "/users",
        token=token,
        json={
            "username": "bob",
            "email": "bob@example.com",
            "fullName": "Bob",
            "password": "bobs-password-1",
        },
    )
    assert user.status == 201, user.body
    project = projects.request(
        "POST", "/projects", token=token, json={"name": "Outage", "description": "SQS is down"}
    )
    assert project.status == 201, project.body
    task = tasks.request(
        "POST",
        "/tasks",
        token=token,
        json={"projectId": project.json()["id"], "description": "Wait"},
    )
    assert task.status == 201, task.body
    ids = {"user": user.json()["id"], "project": project.json()["id"], "task": task.json()["id"]}
    updated = tasks.request(
        "PATCH", f"/tasks/{ids['task']}", token=token, json={"description": "Wait longer"}
    )
    assert updated.status == 200, updated.body
    deleted = projects.request("DELETE", f"/projects/{ids['project']}", token=token)
    assert deleted.status == 204, deleted.body
    logout = users.request("POST", "/auth/logout", token=token)
    assert logout.status == 204, logout.body
    a = admin.id
    return Outage(
        admin,
        ids,
        [
            Waiting("audit_outbox", None, "LOGIN", "SESSION", a, "LOGIN"),
            Waiting(
                "audit_outbox", None, "LOGIN_FAILED", "SESSION", a, "LOGIN_FAILED_WRONG_PASSWORD"
            ),
            Waiting("users", ids["user"], "CREATE", "USER", ids["user"], "CREATE_USER"),
            Waiting(
                "projects", ids["project"], "CREATE", "PROJECT", ids["project"], "CREATE_PROJECT"
            ),
            Waiting("tasks", ids["task"], "CREATE", "TASK", ids["task"], "CREATE_TASK"),
            Waiting("tasks", ids["task"], "UPDATE", "TASK", ids["task"], "UPDATE_TASK"),
            Waiting(
                "projects", ids["project"], "DELETE", "PROJECT", ids["project"], "DELETE_PROJECT"
            ),
            Waiting("audit_outbox", None, "LOGOUT", "SESSION", a, "LOGOUT"),
        ],
    )


def waiting_events(db: Db) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Every event waiting anywhere: (collection, document id, event), oldest first."""
    found: list[tuple[str, str | None, dict[str, Any]]] = []
    for name in RECORD_COLLECTIONS:
        for doc in db[name].find({"outboxCount": {"$gt": 0}}):
            assert doc["outboxCount"] == len(doc["outbox"])
            found += [(name, str(doc["_id"]), event) for event in doc["outbox"].values()]
    found += [("audit_outbox", None, doc["event"]) for doc in db.audit_outbox.find()]
    return sorted(found, key=lambda item: str(item[2]["occurredAt"]))


def as_waiting(place: str, document_id: str | None, event: dict[str, Any]) -> Waiting:
    return Waiting(
        place, document_id, event["action"], event["entity"], event["entityId"], event["detail"]
    )


def assert_no_outbox_holds_anything(db: Db) -> None:
    for name in RECORD_COLLECTIONS:
        for doc in db[name].find():
            assert doc.get("outboxCount", 0) == 0, (name, doc["_id"])
            assert not doc.get("outbox"), (name, doc["_id"])
    assert db.audit_outbox.count_documents({}) == 0


def test_given_sqs_unreachable_when_requests_change_things_then_they_succeed_and_events_wait(
    db: Db, queue: AuditQueue
) -> None:
    # When SQS cannot be reached, requests log in, fail to, create, update, delete, log out
    # (each answered as usual: change_things_while_sqs_is_down checks every status)
    with sqs_unreachable():
        outage = change_things_while_sqs_is_down(db)

    # Then every event waits, in the outbox of the document it changed or in audit_outbox
    waiting = waiting_events(db)
    assert [as_waiting(*item) for item in waiting] == outage.expected
    assert {doc["_id"] for doc in db.audit_outbox.find()} == {
        event["eventId"] for place, _, event in waiting if place == "audit_outbox"
    }
    # and nothing reached the queue
    assert queue.waiting() == 0

    # The task's outbox holds its creation and its update, keyed by eventId, in the same
    # document as the state they describe
    task = db.tasks.find_one()
    assert task is not None
    assert task["outboxCount"] == 2
    events = sorted(task["outbox"].values(), key=lambda e: str(e["occurredAt"]))
    assert [e["action"] for e in events] == ["CREATE", "UPDATE"]
    assert all(task["outbox"][e["eventId"]] == e for e in events)
    assert events[1]["changes"] == {"description": {"from": "Wait", "to": "Wait longer"}}
    assert task["description"] == "Wait longer"
    assert events[0]["entityId"] == events[1]["entityId"] == str(task["_id"]) == outage.ids["task"]
    # and the project's delete sits in the project it deactivated
    project = db.projects.find_one()
    assert project is not None
    assert project["isActive"] is False
    deletes = [e for e in project["outbox"].values() if e["action"] == "DELETE"]
    assert [e["changes"] for e in deletes] == [{"isActive": {"from": True, "to": False}}]


def test_given_waiting_events_when_sqs_is_back_and_the_relay_runs_then_each_is_recorded_once(
    db: Db, queue: AuditQueue
) -> None:
    # Given events that waited while SQS was down
    with sqs_unreachable():
        change_things_while_sqs_is_down(db)
    waiting = {event["eventId"]: event for _, _, event in waiting_events(db)}
    assert len(waiting) == 8

    # When SQS is back and the scheduled relay runs
    assert run_relay() == {"sent": 8, "failed": 0}

    # Then every event is in the queue once, and no outbox holds anything
    assert queue.waiting() == 8
    assert_no_outbox_holds_anything(db)

    # When the consumer is given the queue
    worker = Worker(load_template(ROOT / "template.yaml"))
    assert worker.drain() == 8

    # Then every event is recorded exactly once, as it was when it waited
    records = {r["eventId"]: r for r in db.audits.find()}
    assert db.audits.count_documents({}) == 8
    assert set(records) == set(waiting)
    for event_id, event in waiting.items():
        record = records[event_id]
        assert {k: record[k] for k in event if k != "occurredAt"} == {
            k: v for k, v in event.items() if k != "occurredAt"
        }

    # And the relay's next run, on its schedule, sends nothing
    worker.run_schedules_once()
    assert queue.waiting() == 0
    assert run_relay() == {"sent": 0, "failed": 0}
    assert db.audits.count_documents({}) == 8


def test_given_waiting_events_when_the_relay_runs_while_sqs_is_still_down_then_it_keeps_them(
    db: Db, queue: AuditQueue
) -> None:
    with sqs_unreachable():
        change_things_while_sqs_is_down(db)
        before = waiting_events(db)

        # When the relay runs and SQS still cannot be reached
        result = run_relay()

    # Then it stops at the first failure and every event still waits where it was
    assert result == {"sent": 0, "failed": 1}
    assert waiting_events(db) == before
    assert queue.waiting() == 0
