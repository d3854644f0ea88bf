"""The audit trail end to end: a scripted session through the real users, projects and tasks
handlers, its events through the real queue to the real consumer, and a second delivery of every
message that must change nothing (SPEC §7).

The requests run one after another, so records sorted by when they happened line up with the
script's expected events; every request carries its own `X-Request-Id`, which its record must
carry too. Requests that must not be audited (refreshes) are covered by the exact count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import load_handler
from devtools.template import FunctionDef, load_template
from devtools.worker import Worker
from tests.factories import (
    DEFAULT_PASSWORD,
    make_project,
    make_task,
    make_user,
    settle_audit_sends,
)
from tests.integration.lambda_events import (
    ROOT,
    AuditQueue,
    FunctionApi,
    Handler,
    LambdaResponse,
    UsersApi,
    session_token,
)
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
REDACTED = {"from": "[redacted]", "to": "[redacted]"}
ALICE_PASSWORD = "alice-first-pw-1"
ALICE_NEW_PASSWORD = "alice-second-pw-2"
DUE = "2031-05-04T12:00:00Z"


@dataclass
class Recorded:
    """What the consumer was handed, batch by batch, and what it answered."""

    events: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bodies(self) -> list[str]:
        return [r["body"] for event in self.events for r in event["Records"]]

    @property
    def failures(self) -> list[Any]:
        return [f for result in self.results for f in result["batchItemFailures"]]


def recording_worker(recorded: Recorded) -> Worker:
    """The local worker of `make dev`, wired from `template.yaml`, recording what the consumer
    receives and answers."""

    def loader(fn: FunctionDef) -> Handler:
        handler = load_handler(fn)

        def recording(event: dict[str, Any], context: Any) -> Any:
            result = handler(event, context)
            if "Records" in event:
                recorded.events.append(event)
                recorded.results.append(result)
            return result

        return recording

    return Worker(load_template(ROOT / "template.yaml"), loader=loader)


def change(before: Any, after: Any) -> dict[str, Any]:
    return {"from": before, "to": after}


@dataclass(frozen=True)
class Expected:
    actor_id: str | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    detail: str
    changes: dict[str, Any]


class Script:
    """Requests with numbered `X-Request-Id`s, and the audit event each one must produce."""

    def __init__(self) -> None:
        self.users = UsersApi()
        self.projects = FunctionApi("projects")
        self.tasks = FunctionApi("tasks")
        self.expected: dict[str, Expected] = {}
        self._n = 0

    def call(
        self, api: UsersApi | FunctionApi, method: str, path: str, status: int, **parts: Any
    ) -> tuple[str, LambdaResponse]:
        self._n += 1
        request_id = f"trail-{self._n:02d}"
        response = api.request(method, path, headers={"X-Request-Id": request_id}, **parts)
        # The event is sent and cleared off the request path. A user's requests follow each
        # other, and so do these: the next starts once this one's send and clear are done (on
        # FerretDB a cascade's update_many would otherwise race the clear of the same document,
        # and the checks below read the outboxes right after the last request).
        settle_audit_sends()
        assert response.status == status, (method, path, response.status, response.body)
        assert response.headers["x-request-id"] == request_id
        return request_id, response

    def audited(
        self,
        api: UsersApi | FunctionApi,
        method: str,
        path: str,
        status: int,
        expected: Expected | Callable[[dict[str, Any]], Expected],
        **parts: Any,
    ) -> dict[str, Any]:
        """Make the request; `expected` may be built from the response body (ids, timestamps)."""
        request_id, response = self.call(api, method, path, status, **parts)
        body: dict[str, Any] = response.json() if response.body else {}
        self.expected[request_id] = expected if isinstance(expected, Expected) else expected(body)
        return body

    def unaudited_call(
        self, api: UsersApi | FunctionApi, method: str, path: str, status: int, **parts: Any
    ) -> LambdaResponse:
        """A request that must produce no audit event (the exact count checks it)."""
        return self.call(api, method, path, status, **parts)[1]


def login_event(user: User) -> Expected:
    return Expected(user.id, user.role.value, "LOGIN", "SESSION", user.id, "LOGIN", {})


def run_session(admin: User) -> Script:
    """Login, failed logins, the life of a user, a project and a task, logout, token reuse."""
    s = Script()
    a = admin.id

    # An ADMIN logs in, then two failed logins: a wrong password, an unknown email.
    login = s.audited(
        s.users,
        "POST",
        "/auth/login",
        200,
        login_event(admin),
        json={"email": admin.email, "password": DEFAULT_PASSWORD},
    )
    token = login["access_token"]
    s.audited(
        s.users,
        "POST",
        "/auth/login",
        401,
        Expected(None, None, "LOGIN_FAILED", "SESSION", a, "LOGIN_FAILED_WRONG_PASSWORD", {}),
        json={"email": admin.email, "password": "not-the-password"},
    )
    s.audited(
        s.users,
        "POST",
        "/auth/login",
        401,
        Expected(
            None,
            None,
            "LOGIN_FAILED",
            "SESSION",
            "nobody@example.com",
            "LOGIN_FAILED_UNKNOWN_EMAIL",
            {},
        ),
        json={"email": "nobody@example.com", "password": "whatever-it-is"},
    )

    # The ADMIN creates Alice; Alice logs in and changes her name and password.
    alice_body = {
        "username": "alice",
        "email": "alice@example.com",
        "fullName": "Alice Liddell",
        "password": ALICE_PASSWORD,
    }
    alice = s.audited(
        s.users,
        "POST",
        "/users",
        201,
        lambda body: Expected(
            a,
            "ADMIN",
            "CREATE",
            "USER",
            body["id"],
            "CREATE_USER",
            {
                "username": change(None, "alice"),
                "email": change(None, "alice@example.com"),
                "fullName": change(None, "Alice Liddell"),
                "role": change(None, "USER"),
                "isActive": change(None, True),
            },
        ),
        token=token,
        json=alice_body,
    )
    alice_token = s.audited(
        s.users,
        "POST",
        "/auth/login",
        200,
        Expected(alice["id"], "USER", "LOGIN", "SESSION", alice["id"], "LOGIN", {}),
        json={"email": "alice@example.com", "password": ALICE_PASSWORD},
    )["access_token"]
    s.audited(
        s.users,
        "PATCH",
        f"/users/{alice['id']}",
        200,
        Expected(
            alice["id"],
            "USER",
            "UPDATE",
            "USER",
            alice["id"],
            "UPDATE_USER",
            {"fullName": change("Alice Liddell", "Alice P. Liddell"), "password": REDACTED},
        ),
        token=alice_token,
        json={
            "fullName": "Alice P. Liddell",
            "password": ALICE_NEW_PASSWORD,
            "currentPassword": ALICE_PASSWORD,
        },
    )

    # The ADMIN creates a project and a task, and assigns the task to Alice.
    project = s.audited(
        s.projects,
        "POST",
        "/projects",
        201,
        lambda body: Expected(
            a,
            "ADMIN",
            "CREATE",
            "PROJECT",
            body["id"],
            "CREATE_PROJECT",
            {
                "name": change(None, "Looking glass"),
                "description": change(None, "Through it"),
                "ownerId": change(None, a),
                "isActive": change(None, True),
            },
        ),
        token=token,
        json={"name": "Looking glass", "description": "Through it"},
    )
    pid = project["id"]
    task = s.audited(
        s.tasks,
        "POST",
        "/tasks",
        201,
        lambda body: Expected(
            a,
            "ADMIN",
            "CREATE",
            "TASK",
            body["id"],
            "CREATE_TASK",
            {
                "projectId": change(None, pid),
                "description": change(None, "Cross the brook"),
                "assignedTo": change(None, None),
                "status": change(None, "PENDING"),
                "dueDate": change(None, body["dueDate"]),
                "completedAt": change(None, None),
                "createdBy": change(None, a),
                "isActive": change(None, True),
            },
        ),
        token=token,
        json={"projectId": pid, "description": "Cross the brook", "dueDate": DUE},
    )
    tid = task["id"]
    s.audited(
        s.tasks,
        "PATCH",
        f"/tasks/{tid}",
        200,
        Expected(
            a,
            "ADMIN",
            "UPDATE",
            "TASK",
            tid,
            "ASSIGN_TASK",
            {"assignedTo": change(None, alice["id"]), "status": change("PENDING", "ASSIGNED")},
        ),
        token=token,
        json={"assignedTo": alice["id"]},
    )
    # Alice, the assignee, completes it.
    s.audited(
        s.tasks,
        "PATCH",
        f"/tasks/{tid}",
        200,
        lambda body: Expected(
            alice["id"],
            "USER",
            "UPDATE",
            "TASK",
            tid,
            "COMPLETE_TASK",
            {
                "status": change("ASSIGNED", "COMPLETED"),
                "completedAt": change(None, body["completedAt"]),
            },
        ),
        token=alice_token,
        json={"status": "COMPLETED"},
    )

    # Delete and restore the task, then the project (whose delete cascades to the task).
    off, on = {"isActive": change(True, False)}, {"isActive": change(False, True)}
    for method, path, status, action, detail, changes in (
        ("DELETE", f"/tasks/{tid}", 204, "DELETE", "DELETE_TASK", off),
        ("POST", f"/tasks/{tid}/restore", 200, "RESTORE", "RESTORE_TASK", on),
    ):
        s.audited(
            s.tasks,
            method,
            path,
            status,
            Expected(a, "ADMIN", action, "TASK", tid, detail, changes),
            token=token,
        )
    for method, path, status, action, detail, changes in (
        ("DELETE", f"/projects/{pid}", 204, "DELETE", "DELETE_PROJECT", off),
        ("POST", f"/projects/{pid}/restore", 200, "RESTORE", "RESTORE_PROJECT", on),
    ):
        s.audited(
            s.projects,
            method,
            path,
            status,
            Expected(a, "ADMIN", action, "PROJECT", pid, detail, changes),
            token=token,
        )

    # The ADMIN deletes Alice and logs out; refreshing that session is refused, unaudited.
    s.audited(
        s.users,
        "DELETE",
        f"/users/{alice['id']}",
        204,
        Expected(a, "ADMIN", "DELETE", "USER", alice["id"], "DELETE_USER", off),
        token=token,
    )
    s.audited(
        s.users,
        "POST",
        "/auth/logout",
        204,
        Expected(a, "ADMIN", "LOGOUT", "SESSION", a, "LOGOUT", {}),
        token=token,
    )
    s.unaudited_call(
        s.users, "POST", "/auth/refresh", 401, json={"refresh_token": login["refresh_token"]}
    )

    # A new session: one refresh rotates the token; presenting the old one again is reuse.
    second = s.audited(
        s.users,
        "POST",
        "/auth/login",
        200,
        login_event(admin),
        json={"email": admin.email, "password": DEFAULT_PASSWORD},
    )
    rotated = s.unaudited_call(
        s.users, "POST", "/auth/refresh", 200, json={"refresh_token": second["refresh_token"]}
    ).json()
    s.audited(
        s.users,
        "POST",
        "/auth/refresh",
        401,
        Expected(a, "ADMIN", "TOKEN_REUSE", "SESSION", a, "TOKEN_REUSE_SESSION_REVOKED", {}),
        json={"refresh_token": second["refresh_token"]},
    )
    s.unaudited_call(
        s.users, "POST", "/auth/refresh", 401, json={"refresh_token": rotated["refresh_token"]}
    )

    # Session control (issue 21.2): three sessions; one ends another, then all but itself.
    sessions = [
        s.audited(
            s.users,
            "POST",
            "/auth/login",
            200,
            login_event(admin),
            json={"email": admin.email, "password": DEFAULT_PASSWORD},
        )["access_token"]
        for _ in range(3)
    ]
    listed = s.unaudited_call(s.users, "GET", "/auth/sessions", 200, token=sessions[0]).json()
    other = next(item["id"] for item in listed["items"] if not item["current"])
    s.audited(
        s.users,
        "DELETE",
        f"/auth/sessions/{other}",
        204,
        Expected(a, "ADMIN", "LOGOUT", "SESSION", a, "END_SESSION", {}),
        token=sessions[0],
    )
    s.audited(
        s.users,
        "DELETE",
        "/auth/sessions",
        204,
        Expected(a, "ADMIN", "LOGOUT", "SESSION", a, "END_OTHER_SESSIONS", {}),
        token=sessions[0],
    )
    s.unaudited_call(s.users, "DELETE", "/auth/sessions", 204, token=sessions[0])  # none left
    return s


def recorded_in_order(db: Db) -> list[tuple[str | None, Expected]]:
    """Every audit record as (requestId, what it says), in the order the events happened."""
    records = list(db.audits.find().sort("createdAt", 1))
    times = [r["createdAt"] for r in records]
    assert len(set(times)) == len(times), "the script's requests are sequential"
    return [
        (
            r["requestId"],
            Expected(
                r["actorId"],
                r["actorRole"],
                r["action"],
                r["entity"],
                r["entityId"],
                r["detail"],
                r["changes"],
            ),
        )
        for r in records
    ]


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
    assert "$2b$" not in text  # no bcrypt hash
    assert "passwordHash" not in text
    assert "currentPassword" not in text


@dataclass(frozen=True)
class Delivered:
    """The scripted session, its events delivered once through the local worker."""

    script: Script
    recorded: Recorded
    worker: Worker
    waiting_before: int
    password_hash: str


@pytest.fixture
def delivered(db: Db, queue: AuditQueue) -> Delivered:
    # Given an ADMIN, and a session of logins, user, project and task changes, logout and reuse
    admin = make_user(db, role=Role.ADMIN)
    script = run_session(admin)
    waiting = queue.waiting()
    alice = db.users.find_one({"username": "alice"})
    assert alice is not None
    # When the local worker delivers the queue to the consumer
    recorded = Recorded()
    worker = recording_worker(recorded)
    assert worker.drain() == waiting
    assert recorded.failures == []
    assert queue.waiting() == 0
    return Delivered(script, recorded, worker, waiting, alice["passwordHash"])


def test_given_a_session_when_delivered_then_one_record_says_who_did_what_for_each_event(
    db: Db, delivered: Delivered
) -> None:
    expected = delivered.script.expected
    # Then the session sent 23 events, each at once, and they became exactly 23 records
    assert len(expected) == delivered.waiting_before == 23
    assert db.audits.count_documents({}) == 23
    assert {r["eventId"] for r in db.audits.find()} == {
        json.loads(body)["eventId"] for body in delivered.recorded.bodies
    }
    # each with the actor, action, entity, detail and changes of its request, in order
    in_order = recorded_in_order(db)
    wrong = [
        (request_id, f"recorded {said}", f"expected {want}")
        for (request_id, want), (_, said) in zip(expected.items(), in_order, strict=True)
        if said != want
    ]
    assert wrong == []


def test_given_a_session_when_delivered_then_no_message_or_record_holds_a_password_or_hash(
    db: Db, delivered: Delivered
) -> None:
    everything = "\n".join(delivered.recorded.bodies) + json.dumps(
        list(db.audits.find()), default=str
    )
    assert_no_secret(
        everything,
        ALICE_PASSWORD,
        ALICE_NEW_PASSWORD,
        DEFAULT_PASSWORD,
        delivered.password_hash,
    )
    update = db.audits.find_one({"detail": "UPDATE_USER"})
    assert update is not None
    assert update["changes"]["password"] == REDACTED


def test_given_a_session_when_sent_then_every_outbox_entry_was_cleared(
    db: Db, delivered: Delivered
) -> None:
    # Then the documents that carried events hold none any more (each was cleared once sent)
    carried = [
        db.users.find_one({"username": "alice"}),
        db.projects.find_one(),
        db.tasks.find_one(),
    ]
    for doc in carried:
        assert doc is not None
        assert doc["outboxCount"] == 0
        assert doc["outbox"] == {}
    for name in ("users", "projects", "tasks"):
        for doc in db[name].find():
            assert doc.get("outboxCount", 0) == 0, (name, doc["_id"])
            assert not doc.get("outbox"), (name, doc["_id"])
    # and session events, which belong to no document, never waited in audit_outbox
    assert db.audit_outbox.count_documents({}) == 0


def test_given_a_delivered_session_when_every_message_is_delivered_again_then_nothing_is_added(
    db: Db, queue: AuditQueue, delivered: Delivered
) -> None:
    first = {r["eventId"]: r for r in db.audits.find()}

    # When every message is sent to the queue again and delivered
    for body in delivered.recorded.bodies:
        queue.send(body)
    assert delivered.worker.drain() == 23

    # Then the consumer accepts them all and writes nothing: the records are exactly as before
    assert delivered.recorded.failures == []
    assert db.audits.count_documents({}) == 23
    assert {r["eventId"]: r for r in db.audits.find()} == first


def test_given_a_session_when_delivered_then_each_record_carries_its_x_request_id(
    db: Db, delivered: Delivered
) -> None:
    assert [request_id for request_id, _ in recorded_in_order(db)] == list(
        delivered.script.expected
    )


# -- the sub-activity (`detail`) and `changes` of each kind of task update --------------------


@dataclass(frozen=True)
class TaskUpdate:
    assigned: bool  # the task starts assigned to the USER (else PENDING, no assignee)
    completed: bool
    patch: dict[str, Any]
    detail: str
    changes: dict[str, tuple[Any, Any]]  # field -> (from, to); "$user"/"$other"/"$p2"/"$now"


TASK_UPDATES = {
    "assign an open task": TaskUpdate(
        False,
        False,
        {"assignedTo": "$user"},
        "ASSIGN_TASK",
        {"assignedTo": (None, "$user"), "status": ("PENDING", "ASSIGNED")},
    ),
    "unassign it": TaskUpdate(
        True,
        False,
        {"assignedTo": None},
        "UNASSIGN_TASK",
        {"assignedTo": ("$user", None), "status": ("ASSIGNED", "PENDING")},
    ),
    "hand it to another": TaskUpdate(
        True, False, {"assignedTo": "$other"}, "ASSIGN_TASK", {"assignedTo": ("$user", "$other")}
    ),
    "complete it": TaskUpdate(
        True,
        False,
        {"status": "COMPLETED"},
        "COMPLETE_TASK",
        {"status": ("ASSIGNED", "COMPLETED"), "completedAt": (None, "$now")},
    ),
    "reopen it": TaskUpdate(
        True,
        True,
        {"status": "ASSIGNED"},
        "REOPEN_TASK",
        {"status": ("COMPLETED", "ASSIGNED"), "completedAt": ("$now", None)},
    ),
    "move it": TaskUpdate(
        False, False, {"projectId": "$p2"}, "MOVE_TASK", {"projectId": ("$p1", "$p2")}
    ),
    "describe it anew": TaskUpdate(
        False, False, {"description": "Anew"}, "UPDATE_TASK", {"description": ("Old", "Anew")}
    ),
}


@pytest.mark.parametrize("case", TASK_UPDATES.values(), ids=TASK_UPDATES.keys())
def test_given_a_task_when_updated_then_its_event_names_the_sub_activity_and_only_what_changed(
    db: Db, queue: AuditQueue, case: TaskUpdate
) -> None:
    # Given a task (made directly, so the queue holds no event yet) and its owner's session
    owner = make_user(db, role=Role.MANAGER)
    user, other = make_user(db), make_user(db)
    p1, p2 = make_project(db, owner), make_project(db, owner)
    task = make_task(
        db,
        p1,
        description="Old",
        assignee=user if case.assigned else None,
        completed=case.completed,
    )
    tasks = FunctionApi("tasks")
    token = session_token(owner)
    before = tasks.request("GET", f"/tasks/{task.id}", token=token).json()
    names = {"$user": user.id, "$other": other.id, "$p1": p1.id, "$p2": p2.id}

    # When its owner changes it
    patch = {k: names.get(v, v) if isinstance(v, str) else v for k, v in case.patch.items()}
    response = tasks.request("PATCH", f"/tasks/{task.id}", token=token, json=patch)
    assert response.status == 200, response.body
    after = response.json()

    # Then its one event says which sub-activity it was, and maps each changed field, only those
    messages = queue.receive(visibility_timeout=0)
    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert (event["action"], event["entity"], event["entityId"]) == ("UPDATE", "TASK", task.id)

    def value(name: Any, field: str, side: dict[str, Any]) -> Any:
        return side[field] if name == "$now" else names.get(name, name)

    changes = {
        field: {"from": value(old, field, before), "to": value(new, field, after)}
        for field, (old, new) in case.changes.items()
    }
    assert (event["detail"], event["changes"]) == (case.detail, changes)
