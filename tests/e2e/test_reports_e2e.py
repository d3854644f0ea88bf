"""Reports over HTTP (SPEC §5 "Reports"): a project's summary, a user's workload and the activity
over a range, for a data set made with the factories. Every expectation is computed here from the
records the factories returned, not copied from the API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, record_audit
from tests.factories import make_project, make_task, make_user
from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.records import Project, Task, TaskStatus, User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _overdue(task: Task, now: datetime) -> bool:
    return task.is_active and task.is_open and task.due_date is not None and task.due_date < now


def _recent(value: str, since: datetime) -> bool:
    return since <= datetime.fromisoformat(value) <= utcnow()


@dataclass(frozen=True)
class Team:
    """Two projects of one MANAGER, a third without tasks, and two assignees."""

    manager: User
    ana: User
    bo: User
    alpha: Project
    beta: Project
    empty: Project
    tasks: list[Task]


@pytest.fixture
def team(db: Database[dict[str, Any]]) -> Team:
    now = utcnow()
    yesterday, tomorrow = now - timedelta(days=1), now + timedelta(days=1)
    manager, ana, bo = make_user(db, role=Role.MANAGER), make_user(db), make_user(db)
    alpha, beta = make_project(db, manager), make_project(db, manager)
    empty = make_project(db, manager)
    tasks = [
        make_task(db, alpha, assignee=ana, due_date=yesterday),  # overdue
        make_task(db, alpha, assignee=ana, due_date=tomorrow),
        make_task(db, alpha, assignee=ana, due_date=yesterday, completed=True),  # done late: not
        make_task(db, alpha, due_date=now - timedelta(days=2)),  # PENDING, overdue
        make_task(db, alpha),  # PENDING, no due date
        make_task(db, alpha, assignee=bo, completed=True),
        make_task(db, alpha, assignee=ana, due_date=yesterday, is_active=False),  # deleted
        make_task(db, beta, assignee=ana, due_date=now - timedelta(days=3)),  # overdue
        make_task(db, beta, assignee=ana, completed=True),
        make_task(db, beta, assignee=bo, due_date=tomorrow),
    ]
    return Team(manager, ana, bo, alpha, beta, empty, tasks)


def _expected_summary(project: Project, tasks: Iterable[Task], now: datetime) -> dict[str, Any]:
    mine = [t for t in tasks if t.project_id == project.id and t.is_active]
    by_status = Counter(t.status.value for t in mine)
    completed = by_status[TaskStatus.COMPLETED.value]
    return {
        "projectId": project.id,
        "total": len(mine),
        "byStatus": {status.value: by_status[status.value] for status in TaskStatus},
        "completionRate": round(completed / len(mine), 4) if mine else 0.0,
        "overdue": sum(_overdue(t, now) for t in mine),
    }


def _expected_workload(user: User, tasks: Iterable[Task], now: datetime) -> dict[str, Any]:
    mine = [t for t in tasks if t.assigned_to == user.id and t.is_active]
    per_project: dict[str, Counter[str]] = {}
    for task in mine:
        kind = "open" if task.is_open else "completed"
        per_project.setdefault(task.project_id, Counter())[kind] += 1
    return {
        "userId": user.id,
        "open": sum(t.is_open for t in mine),
        "completed": sum(not t.is_open for t in mine),
        "overdue": sum(_overdue(t, now) for t in mine),
        "projects": [
            {"projectId": pid, "open": c["open"], "completed": c["completed"]}
            for pid, c in sorted(per_project.items())
        ],
    }


@pytest.mark.parametrize("role", list(Role))
def test_given_a_project_with_tasks_when_anyone_asks_for_its_summary_then_counts_rate_and_overdue_match(  # noqa: E501
    client: httpx.Client, team: Team, user_with_token: UserWithToken, role: Role
) -> None:
    _, headers = user_with_token(role)
    asked = utcnow()

    body = _ok(client.get(f"/reports/projects/{team.alpha.id}/summary", headers=headers))

    generated = body.pop("generatedAt")
    assert _recent(generated, asked)
    assert body == _expected_summary(team.alpha, team.tasks, asked)
    # the data set is not trivial: every status, a rate strictly between 0 and 1, overdue tasks
    assert all(body["byStatus"].values())
    assert 0 < body["completionRate"] < 1
    assert body["overdue"] >= 2


def test_given_a_project_without_tasks_when_asking_for_its_summary_then_all_is_zero(
    client: httpx.Client, team: Team, user_with_token: UserWithToken
) -> None:
    _, headers = user_with_token(Role.USER)

    body = _ok(client.get(f"/reports/projects/{team.empty.id}/summary", headers=headers))

    assert body["total"] == 0
    assert body["byStatus"] == {"PENDING": 0, "ASSIGNED": 0, "COMPLETED": 0}
    assert body["completionRate"] == 0.0
    assert body["overdue"] == 0


def test_given_a_deleted_project_when_asking_for_its_summary_then_only_an_admin_or_its_owner_sees_it(  # noqa: E501
    client: httpx.Client,
    db: Database[dict[str, Any]],
    team: Team,
    user_with_token: UserWithToken,
    login: Callable[[str], dict[str, Any]],
) -> None:
    gone = make_project(db, team.manager, is_active=False)
    _, user = user_with_token(Role.USER)
    _, other_manager = user_with_token(Role.MANAGER)
    _, admin = user_with_token(Role.ADMIN)
    owner = {"Authorization": f"Bearer {login(team.manager.email)['access_token']}"}
    path = f"/reports/projects/{gone.id}/summary"

    assert_problem(client.get(path, headers=user), 404)
    assert_problem(client.get(path, headers=other_manager), 404)
    assert _ok(client.get(path, headers=admin))["projectId"] == gone.id
    assert _ok(client.get(path, headers=owner))["projectId"] == gone.id


@pytest.mark.parametrize("path", ["/reports/projects/{id}/summary", "/reports/users/{id}/workload"])
@pytest.mark.parametrize("bad_id", ["not-an-id", "0" * 24])
def test_given_an_unknown_or_malformed_id_when_asking_for_a_report_then_404(
    client: httpx.Client, user_with_token: UserWithToken, path: str, bad_id: str
) -> None:
    _, admin = user_with_token(Role.ADMIN)

    assert_problem(client.get(path.format(id=bad_id), headers=admin), 404)


@pytest.mark.parametrize("who", ["ana", "bo"])
def test_given_assigned_tasks_when_asking_for_a_users_workload_then_open_completed_and_overdue_match(  # noqa: E501
    client: httpx.Client, team: Team, user_with_token: UserWithToken, who: str
) -> None:
    _, manager = user_with_token(Role.MANAGER)
    user: User = getattr(team, who)
    asked = utcnow()

    body = _ok(client.get(f"/reports/users/{user.id}/workload", headers=manager))

    assert _recent(body.pop("generatedAt"), asked)
    assert body == _expected_workload(user, team.tasks, asked)
    assert len(body["projects"]) == 2


def test_given_a_user_when_asking_for_their_own_workload_then_it_is_theirs(
    client: httpx.Client, team: Team, login: Callable[[str], dict[str, Any]]
) -> None:
    headers = {"Authorization": f"Bearer {login(team.ana.email)['access_token']}"}
    asked = utcnow()

    body = _ok(client.get(f"/reports/users/{team.ana.id}/workload", headers=headers))

    body.pop("generatedAt")
    assert body == _expected_workload(team.ana, team.tasks, asked)
    assert body["overdue"] == 2, "one in each project; the deleted and the completed do not count"


def test_given_a_deleted_user_when_asking_for_their_workload_then_only_an_admin_sees_it(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    gone = make_user(db, is_active=False)
    _, manager = user_with_token(Role.MANAGER)
    _, admin = user_with_token(Role.ADMIN)
    path = f"/reports/users/{gone.id}/workload"

    assert_problem(client.get(path, headers=manager), 404)
    body = _ok(client.get(path, headers=admin))
    assert (body["userId"], body["open"], body["completed"], body["projects"]) == (
        gone.id,
        0,
        0,
        [],
    )


# -- activity -------------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Recorded:
    action: AuditAction
    entity: AuditEntity
    at: datetime


def test_given_audit_records_over_some_days_when_asking_for_activity_then_counts_per_day_action_and_entity(  # noqa: E501
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    # Given records on three past days (today's logins of this test fall outside the range),
    # with records exactly at `from` (counted) and at `to` (not counted)
    _, admin = user_with_token(Role.ADMIN)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=20)
    end = start + timedelta(days=2)
    noon = timedelta(hours=12)
    A, E = AuditAction, AuditEntity
    data = [
        Recorded(A.CREATE, E.USER, start),
        Recorded(A.CREATE, E.TASK, start + noon),
        Recorded(A.CREATE, E.TASK, start + noon + timedelta(minutes=5)),
        Recorded(A.UPDATE, E.TASK, start + noon),
        Recorded(A.LOGIN, E.SESSION, start + timedelta(hours=23, minutes=59)),
        Recorded(A.DELETE, E.PROJECT, start + timedelta(days=1)),
        Recorded(A.LOGIN, E.SESSION, start + timedelta(days=1) + noon),
        Recorded(A.LOGIN, E.SESSION, start + timedelta(days=1, hours=13)),
        Recorded(A.LOGIN_FAILED, E.SESSION, end - timedelta(milliseconds=1)),
        Recorded(A.LOGIN, E.SESSION, end),  # `to` is exclusive
        Recorded(A.CREATE, E.PROJECT, start - timedelta(milliseconds=1)),  # before `from`
    ]
    for n, item in enumerate(data):
        record_audit(
            db, action=item.action, entity=item.entity, entity_id=f"e{n}", occurred_at=item.at
        )
    inside = Counter(
        (item.at.date().isoformat(), item.action.value, item.entity.value)
        for item in data
        if start <= item.at < end
    )

    body = _ok(
        client.get(
            "/reports/activity", params={"from": _iso(start), "to": _iso(end)}, headers=admin
        )
    )

    assert datetime.fromisoformat(body["from"]) == start
    assert datetime.fromisoformat(body["to"]) == end
    assert body["items"] == [
        {"day": day, "action": action, "entity": entity, "count": count}
        for (day, action, entity), count in sorted(inside.items())
    ]
    assert body["total"] == sum(inside.values()) == 9


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
        {"from": "2026-01-03T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
        {"from": "2025-01-01T00:00:00Z", "to": "2026-01-03T00:00:00Z"},
        {"from": "2026-01-01T00:00:00Z"},
        {"to": "2026-01-01T00:00:00Z"},
        {"from": "yesterday", "to": "2026-01-01T00:00:00Z"},
    ],
    ids=["empty-range", "reversed", "over-366-days", "no-to", "no-from", "not-a-date"],
)
def test_given_a_bad_range_when_asking_for_activity_then_422(
    client: httpx.Client, user_with_token: UserWithToken, params: dict[str, str]
) -> None:
    _, admin = user_with_token(Role.ADMIN)

    assert_problem(client.get("/reports/activity", params=params, headers=admin), 422)


def test_given_a_range_of_exactly_366_days_when_asking_for_activity_then_it_is_answered(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)

    body = _ok(
        client.get(
            "/reports/activity",
            params={"from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
            headers=admin,
        )
    )

    assert body["total"] == 0
    assert body["items"] == []
