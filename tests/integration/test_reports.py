"""Reports through the real reports handler (SPEC §5): project summary, user workload, activity.

The data set is a table of tasks written with the factories; every expected number is counted
from that table in Python, by the rules of SPEC §3 and §5, never by the code under test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from tests.factories import (
    TaskSpec,
    audit_event,
    make_project,
    make_tasks,
    make_user,
)
from tests.integration.lambda_events import LambdaResponse, ReportsApi, session_token
from todo_common import container
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.records import Project, User
from todo_common.repositories.audits import AuditRepository

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
UNKNOWN_ID = "0123456789abcdef01234567"
PAST, FUTURE = "past", "future"


@dataclass(frozen=True)
class Row:
    """One task of the data set: its project, assignee, whether completed, due, active."""

    project: str
    assignee: str | None
    completed: bool = False
    due: str | None = None
    active: bool = True

    @property
    def status(self) -> str:  # SPEC §3
        if self.completed:
            return "COMPLETED"
        return "ASSIGNED" if self.assignee else "PENDING"

    @property
    def overdue(self) -> bool:  # open, and its due date has passed
        return self.active and not self.completed and self.due == PAST


ROWS = (
    Row("alpha", None),
    Row("alpha", None, due=PAST),
    Row("alpha", None, due=FUTURE),
    Row("alpha", "ann"),
    Row("alpha", "ann", due=PAST),
    Row("alpha", "ann", due=PAST),
    Row("alpha", "ann", due=FUTURE),
    Row("alpha", "ann", completed=True),
    Row("alpha", "ann", completed=True, due=PAST),  # completed late: not overdue
    Row("alpha", "ben", due=PAST),
    Row("alpha", "ben", completed=True, due=FUTURE),
    Row("alpha", "ann", due=PAST, active=False),  # deleted: counted nowhere
    Row("alpha", None, active=False),
    Row("alpha", "ann", completed=True, active=False),
    Row("beta", "ann", due=PAST),
    Row("beta", "ann", completed=True),
    Row("beta", None, due=PAST),
    Row("beta", "ben", completed=True, due=PAST),
    Row("beta", "ben", due=FUTURE, active=False),
    Row("gamma", "ben"),
    Row("gamma", "ben", due=PAST),
)


def expected_summary(project_id: str, rows: list[Row]) -> dict[str, Any]:
    active = [r for r in rows if r.active]
    by_status = Counter(r.status for r in active)
    total = len(active)
    return {
        "projectId": project_id,
        "total": total,
        "byStatus": {s: by_status[s] for s in ("PENDING", "ASSIGNED", "COMPLETED")},
        "completionRate": round(by_status["COMPLETED"] / total, 4) if total else 0.0,
        "overdue": sum(r.overdue for r in active),
    }


def expected_workload(user_id: str, rows: list[Row], project_ids: dict[str, str]) -> dict[str, Any]:
    mine = [r for r in rows if r.active]
    per_project: dict[str, dict[str, int]] = {}
    for r in mine:
        counts = per_project.setdefault(project_ids[r.project], {"open": 0, "completed": 0})
        counts["completed" if r.completed else "open"] += 1
    return {
        "userId": user_id,
        "open": sum(not r.completed for r in mine),
        "completed": sum(r.completed for r in mine),
        "overdue": sum(r.overdue for r in mine),
        "projects": [{"projectId": pid, **counts} for pid, counts in sorted(per_project.items())],
    }


@dataclass
class World:
    users: dict[str, User]
    projects: dict[str, Project]
    tokens: dict[str, str]

    def rows_of_project(self, name: str) -> list[Row]:
        return [r for r in ROWS if r.project == name]

    def rows_of_user(self, name: str) -> list[Row]:
        return [r for r in ROWS if r.assignee == name]

    @property
    def project_ids(self) -> dict[str, str]:
        return {name: p.id for name, p in self.projects.items()}


@pytest.fixture
def world(db: Db, clean: None) -> World:
    """An ADMIN; `mia` owns alpha, beta and an empty project, `max` owns gamma; `ann` and `ben`
    (USERs) are assigned tasks; `old` is a deleted project, `gone` a deleted user."""
    users = {
        "admin": make_user(db, role=Role.ADMIN),
        "mia": make_user(db, role=Role.MANAGER),
        "max": make_user(db, role=Role.MANAGER),
        "ann": make_user(db),
        "ben": make_user(db),
        "gone": make_user(db, is_active=False),
    }
    owners = {"alpha": "mia", "beta": "mia", "empty": "mia", "gamma": "max", "old": "mia"}
    projects = {
        name: make_project(db, users[owner], name=name, is_active=name != "old")
        for name, owner in owners.items()
    }
    now = utcnow()
    due = {PAST: now - timedelta(days=2), FUTURE: now + timedelta(days=30), None: None}
    for name, project in projects.items():
        specs = [
            TaskSpec(
                assignee=users[r.assignee] if r.assignee else None,
                completed=r.completed,
                due_date=due[r.due],
                is_active=r.active,
            )
            for r in ROWS
            if r.project == name
        ]
        make_tasks(db, project, specs, created_by=users[owners[name]])
    tokens = {name: session_token(users[name]) for name in ("admin", "mia", "max", "ann", "ben")}
    return World(users, projects, tokens)


@pytest.fixture
def reports() -> ReportsApi:
    return ReportsApi()


def ok(response: LambdaResponse) -> dict[str, Any]:
    assert response.status == 200, (response.status, response.body)
    body: dict[str, Any] = response.json()
    return body


def problem_of(response: LambdaResponse, status: int) -> dict[str, Any]:
    assert response.status == status, (response.status, response.body)
    return response.problem()


def without_generated_at(body: dict[str, Any]) -> dict[str, Any]:
    generated = datetime.fromisoformat(body["generatedAt"])
    assert abs(generated - utcnow()) < timedelta(minutes=1)
    return {k: v for k, v in body.items() if k != "generatedAt"}


# -- project summary --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alpha", "beta", "gamma", "empty"])
def test_given_known_tasks_when_a_project_summary_is_asked_then_its_counts_are_those_of_the_data(
    world: World, reports: ReportsApi, name: str
) -> None:
    project = world.projects[name]
    response = reports.request(
        "GET", f"/reports/projects/{project.id}/summary", token=world.tokens["admin"]
    )
    assert without_generated_at(ok(response)) == expected_summary(
        project.id, world.rows_of_project(name)
    )


def test_given_alpha_when_its_summary_is_asked_then_it_matches_a_count_by_hand(
    world: World, reports: ReportsApi
) -> None:
    # 11 active tasks: 3 PENDING, 5 ASSIGNED, 3 COMPLETED; overdue are the 4 open ones due in
    # the past (one PENDING, three ASSIGNED), not the one completed late, nor a deleted one
    project = world.projects["alpha"]
    body = ok(
        reports.request("GET", f"/reports/projects/{project.id}/summary", token=world.tokens["mia"])
    )
    assert body["byStatus"] == {"PENDING": 3, "ASSIGNED": 5, "COMPLETED": 3}
    assert (body["total"], body["overdue"], body["completionRate"]) == (11, 4, 0.2727)


@pytest.mark.parametrize(
    ("caller", "status"), [("admin", 200), ("mia", 200), ("max", 404), ("ann", 404)]
)
def test_given_a_deleted_project_when_its_summary_is_asked_then_only_admin_and_owner_see_it(
    world: World, reports: ReportsApi, caller: str, status: int
) -> None:
    old = world.projects["old"]
    response = reports.request(
        "GET", f"/reports/projects/{old.id}/summary", token=world.tokens[caller]
    )
    if status == 200:
        assert without_generated_at(ok(response)) == expected_summary(old.id, [])
    else:
        problem_of(response, status)


@pytest.mark.parametrize("project_id", [UNKNOWN_ID, "nope", "0123456789abcdef0123456z"])
@pytest.mark.parametrize("caller", ["admin", "ann"])
def test_given_an_unknown_or_malformed_project_id_when_its_summary_is_asked_then_404(
    world: World, reports: ReportsApi, project_id: str, caller: str
) -> None:
    response = reports.request(
        "GET", f"/reports/projects/{project_id}/summary", token=world.tokens[caller]
    )
    assert problem_of(response, 404)["instance"] == f"/reports/projects/{project_id}/summary"


# -- user workload ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ann", "ben", "mia"])
def test_given_known_tasks_when_a_user_workload_is_asked_then_its_counts_are_those_of_the_data(
    world: World, reports: ReportsApi, name: str
) -> None:
    user = world.users[name]
    response = reports.request(
        "GET", f"/reports/users/{user.id}/workload", token=world.tokens["admin"]
    )
    assert without_generated_at(ok(response)) == expected_workload(
        user.id, world.rows_of_user(name), world.project_ids
    )


def test_given_ann_when_her_workload_is_asked_then_it_matches_a_count_by_hand(
    world: World, reports: ReportsApi
) -> None:
    # alpha: 4 open (2 overdue), 2 completed; beta: 1 open (overdue), 1 completed; her deleted
    # tasks count nowhere
    ann = world.users["ann"]
    body = ok(
        reports.request("GET", f"/reports/users/{ann.id}/workload", token=world.tokens["ann"])
    )
    assert (body["open"], body["completed"], body["overdue"]) == (5, 3, 3)
    alpha, beta = world.projects["alpha"].id, world.projects["beta"].id
    assert sorted((p["projectId"], p["open"], p["completed"]) for p in body["projects"]) == sorted(
        [(alpha, 4, 2), (beta, 1, 1)]
    )


@pytest.mark.parametrize(
    ("caller", "whose", "status"),
    [
        ("admin", "ben", 200),
        ("mia", "ben", 200),
        ("max", "ann", 200),
        ("ann", "ann", 200),
        ("ann", "ben", 403),
        ("ben", "mia", 403),
    ],
)
def test_given_a_caller_when_it_asks_for_a_workload_then_users_see_only_their_own(
    world: World, reports: ReportsApi, caller: str, whose: str, status: int
) -> None:
    user = world.users[whose]
    response = reports.request(
        "GET", f"/reports/users/{user.id}/workload", token=world.tokens[caller]
    )
    if status == 200:
        assert without_generated_at(ok(response)) == expected_workload(
            user.id, world.rows_of_user(whose), world.project_ids
        )
    else:
        problem_of(response, status)


@pytest.mark.parametrize(
    ("caller", "user_id", "status"),
    [
        ("admin", UNKNOWN_ID, 404),
        ("mia", UNKNOWN_ID, 404),
        ("ann", UNKNOWN_ID, 403),  # a well-formed id that is not yours: 403, existing or not
        ("admin", "nope", 404),
        ("ann", "nope", 404),  # malformed: 404 before any permission check
        ("ann", "0123456789abcdef0123456z", 404),
        ("mia", "gone", 404),  # a deleted user: only an ADMIN sees their workload
        ("admin", "gone", 200),
    ],
)
def test_given_a_missing_or_deleted_user_when_the_workload_is_asked_then_it_is_hidden_as_decided(
    world: World, reports: ReportsApi, caller: str, user_id: str, status: int
) -> None:
    user_id = world.users[user_id].id if user_id in world.users else user_id
    response = reports.request(
        "GET", f"/reports/users/{user_id}/workload", token=world.tokens[caller]
    )
    if status == 200:
        assert without_generated_at(ok(response)) == expected_workload(user_id, [], {})
    else:
        problem_of(response, status)


# -- activity -------------------------------------------------------------------------------

DAY = datetime(2026, 3, 10, tzinfo=UTC)


def activity_events() -> list[dict[str, Any]]:
    """Events over five days, several actions and entities, on and around the range edges."""
    plan = [
        (DAY - timedelta(seconds=1), "CREATE", "TASK"),  # just before `from`
        (DAY, "CREATE", "TASK"),  # exactly at `from`: in
        (DAY + timedelta(hours=1), "CREATE", "TASK"),
        (DAY + timedelta(hours=2), "UPDATE", "TASK"),
        (DAY + timedelta(hours=3), "LOGIN", "SESSION"),
        (DAY + timedelta(hours=23, minutes=59), "LOGIN", "SESSION"),
        (DAY + timedelta(days=1), "LOGIN", "SESSION"),
        (DAY + timedelta(days=1, hours=5), "DELETE", "PROJECT"),
        (DAY + timedelta(days=1, hours=6), "DELETE", "PROJECT"),
        (DAY + timedelta(days=1, hours=7), "RESTORE", "PROJECT"),
        (DAY + timedelta(days=2, hours=12), "LOGIN_FAILED", "SESSION"),
        (DAY + timedelta(days=2, hours=13), "CREATE", "USER"),
        (DAY + timedelta(days=2, hours=13), "CREATE", "TASK"),
        (DAY + timedelta(days=3) - timedelta(milliseconds=1), "UPDATE", "USER"),
        (DAY + timedelta(days=3), "TOKEN_REUSE", "SESSION"),  # exactly at `to`: out
    ]
    return [audit_event(action=a, entity=e, occurred_at=when) for when, a, e in plan]


def expected_activity(events: list[dict[str, Any]], start: datetime, end: datetime) -> list[Any]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for event in events:
        when = datetime.fromisoformat(event["occurredAt"])
        if start <= when < end:
            counts[(when.date().isoformat(), event["action"], event["entity"])] += 1
    return [
        {"day": day, "action": action, "entity": entity, "count": n}
        for (day, action, entity), n in sorted(counts.items())
    ]


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def test_given_audit_records_when_activity_is_asked_then_it_counts_per_day_action_and_entity(
    db: Db, world: World, reports: ReportsApi
) -> None:
    # Given audit records over several days
    events = activity_events()
    audits = AuditRepository(db, container.server())
    assert all(audits.record(event) for event in events)
    start, end = DAY, DAY + timedelta(days=3)

    # When an ADMIN asks for the activity of [from, to)
    response = reports.request(
        "GET",
        "/reports/activity",
        token=world.tokens["admin"],
        query={"from": iso(start), "to": iso(end)},
    )

    # Then the counts are the records' own, per UTC day, action and entity, in that order
    body = ok(response)
    expected = expected_activity(events, start, end)
    assert body["items"] == expected
    assert body["total"] == sum(item["count"] for item in expected) == 13
    assert datetime.fromisoformat(body["from"]) == start
    assert datetime.fromisoformat(body["to"]) == end


def test_given_no_audit_records_in_range_when_activity_is_asked_then_it_is_empty(
    db: Db, world: World, reports: ReportsApi
) -> None:
    AuditRepository(db, container.server()).record(audit_event(occurred_at=DAY))
    response = reports.request(
        "GET",
        "/reports/activity",
        token=world.tokens["admin"],
        query={"from": iso(DAY + timedelta(days=1)), "to": iso(DAY + timedelta(days=2))},
    )
    body = ok(response)
    assert (body["total"], body["items"]) == (0, [])


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (DAY, DAY),  # from == to
        (DAY + timedelta(seconds=1), DAY),  # from after to
        (DAY, DAY + timedelta(days=367)),  # over 366 days
        (DAY - timedelta(days=366, seconds=1), DAY),
    ],
    ids=["from-equals-to", "from-after-to", "367-days", "366-days-and-a-second"],
)
def test_given_a_bad_range_when_activity_is_asked_then_422(
    world: World, reports: ReportsApi, start: datetime, end: datetime
) -> None:
    response = reports.request(
        "GET",
        "/reports/activity",
        token=world.tokens["admin"],
        query={"from": iso(start), "to": iso(end)},
    )
    problem = problem_of(response, 422)
    assert problem["errors"]


def test_given_a_range_of_exactly_366_days_when_activity_is_asked_then_200(
    world: World, reports: ReportsApi
) -> None:
    response = reports.request(
        "GET",
        "/reports/activity",
        token=world.tokens["admin"],
        query={"from": iso(DAY - timedelta(days=366)), "to": iso(DAY)},
    )
    assert ok(response)["total"] == 0


@pytest.mark.parametrize(
    "query",
    [{}, {"from": iso(DAY)}, {"to": iso(DAY)}, {"from": "yesterday", "to": iso(DAY)}],
    ids=["none", "no-to", "no-from", "not-a-time"],
)
def test_given_a_missing_or_malformed_bound_when_activity_is_asked_then_422(
    world: World, reports: ReportsApi, query: dict[str, str]
) -> None:
    response = reports.request("GET", "/reports/activity", token=world.tokens["admin"], query=query)
    assert problem_of(response, 422)["errors"]


def test_given_one_bound_without_a_time_zone_when_activity_is_asked_then_no_server_error(
    world: World, reports: ReportsApi
) -> None:
    # A naive bound next to a UTC one must be read as UTC (as due dates are) or refused: not a 500
    response = reports.request(
        "GET",
        "/reports/activity",
        token=world.tokens["admin"],
        query={"from": "2026-03-10T00:00:00", "to": iso(DAY + timedelta(days=1))},
    )
    assert response.status in {200, 422}, (response.status, response.body)


# -- the RBAC table of SPEC §5, rows for audits and reports ---------------------------------

# Endpoint -> status for (ADMIN, MANAGER, USER); the USER asks about `ben`, not themself.
REPORT_ROWS = {
    "GET /audits": (200, 403, 403),
    "GET /audits/{id}": (200, 403, 403),
    "GET /reports/projects/{id}/summary": (200, 200, 200),
    "GET /reports/users/{id}/workload": (200, 200, 403),
    "GET /reports/activity": (200, 403, 403),
}
ROLES = ("ADMIN", "MANAGER", "USER")
CALLERS = {"ADMIN": "admin", "MANAGER": "max", "USER": "ann"}


@pytest.mark.parametrize(
    ("endpoint", "role", "status"),
    [(e, role, s[i]) for e, s in REPORT_ROWS.items() for i, role in enumerate(ROLES)],
)
def test_given_the_rbac_table_when_each_role_calls_each_report_endpoint_then_it_is_obeyed(
    db: Db, world: World, reports: ReportsApi, endpoint: str, role: str, status: int
) -> None:
    audits = AuditRepository(db, container.server())
    event = audit_event(occurred_at=DAY)
    audits.record(event)
    record = db.audits.find_one({"eventId": event["eventId"]})
    assert record is not None
    path = {
        "GET /audits": "/audits",
        "GET /audits/{id}": f"/audits/{record['_id']}",
        "GET /reports/projects/{id}/summary": f"/reports/projects/{world.projects['alpha'].id}"
        "/summary",
        "GET /reports/users/{id}/workload": f"/reports/users/{world.users['ben'].id}/workload",
        "GET /reports/activity": "/reports/activity",
    }[endpoint]
    query = (
        {"from": iso(DAY), "to": iso(DAY + timedelta(days=1))}
        if endpoint.endswith("activity")
        else {}
    )
    response = reports.request("GET", path, token=world.tokens[CALLERS[role]], query=query)
    if status == 200:
        assert ok(response)
    else:
        assert problem_of(response, status)["instance"] == path


@pytest.mark.parametrize("path", ["/audits", "/reports/activity", f"/audits/{UNKNOWN_ID}"])
def test_given_no_token_when_a_report_endpoint_is_called_then_401(
    world: World, reports: ReportsApi, path: str
) -> None:
    response = reports.request("GET", path)
    assert problem_of(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
