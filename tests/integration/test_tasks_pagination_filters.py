"""Task list filters combined with the cursor: every page keeps the filter, nothing repeats.

Two projects of two MANAGERs, 150 tasks each, inserted once for this module and only read by
its tests; creation times and due dates are shuffled against `_id` and tie often.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.factories import make_project, make_tasks, make_user, shuffled_task_specs
from tests.servers import emptied_database
from todo_common import container
from todo_common.errors import Forbidden
from todo_common.principal import Principal, Role
from todo_common.records import Project, Task, TaskStatus, User
from todo_common.repositories.tasks import NO_DUE_DATE

pytestmark = pytest.mark.integration

PER_PROJECT = 150
LIMIT = 9
FIRST_DUE = datetime(2031, 3, 1, tzinfo=UTC)
DUE_BEFORE = FIRST_DUE + timedelta(days=17)
DUE_BEFORE_LATE = FIRST_DUE + timedelta(days=30)


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id=f"session-of-{user.id}")


def in_order(tasks: list[Task], sort: str) -> list[str]:
    """The ids in the order the API promises: the sort field, then the id; no due date last."""

    def key(task: Task) -> tuple[datetime, str]:
        if sort.removeprefix("-") == "createdAt":
            return task.created_at, task.id
        return task.due_date or NO_DUE_DATE, task.id

    return [t.id for t in sorted(tasks, key=key, reverse=sort.startswith("-"))]


def walk(principal: Principal, *, sort: str, **filters: Any) -> list[str]:
    """Follow `nextCursor` to the end, LIMIT tasks a page, through TaskService.list."""
    query: dict[str, Any] = {
        "project_id": None,
        "assigned_to": None,
        "status": None,
        "due_before": None,
        "is_active": None,
    } | filters
    service = container.task_service()
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(2 * PER_PROJECT):  # a bound: a cursor that loops fails instead of hanging
        page = service.list(principal, sort=sort, limit=LIMIT, cursor=cursor, **query)
        assert len(page.items) <= LIMIT
        seen.extend(t.id for t in page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
    pytest.fail("the cursor never reached the end")


@dataclass
class Office:
    admin: User
    owner: User
    other_owner: User
    first: User
    second: User
    project: Project
    other_project: Project
    tasks: list[Task]


@pytest.fixture(scope="module")
def office(_servers: None) -> Office:
    """Tasks assigned to two USERs or nobody; one in four completed, one in five deleted."""
    db = emptied_database()
    admin = make_user(db, role=Role.ADMIN)
    owner, other_owner = make_user(db, role=Role.MANAGER), make_user(db, role=Role.MANAGER)
    first, second = make_user(db), make_user(db)
    project, other_project = make_project(db, owner), make_project(db, other_owner)
    assignees = [None, first, second]
    tasks: list[Task] = []
    for seed, (target, creator) in enumerate(((project, owner), (other_project, other_owner))):
        specs = shuffled_task_specs(
            PER_PROJECT,
            seed=seed,
            first_due=FIRST_DUE,
            assignee=lambda n: assignees[n % 3],
            completed=lambda n: n % 4 == 0,
            is_active=lambda n: n % 5 != 1,
        )
        tasks += make_tasks(db, target, specs, created_by=creator)
    return Office(admin, owner, other_owner, first, second, project, other_project, tasks)


@dataclass(frozen=True)
class FilterCase:
    caller: str  # an Office attribute
    sort: str
    filters: Callable[[Office], dict[str, Any]]
    selects: Callable[[Office, Task], bool]


def _due_before(task: Task, limit: datetime) -> bool:
    return task.due_date is not None and task.due_date < limit


FILTERS = {
    "projectId": FilterCase(
        "admin",
        "createdAt",
        lambda o: {"project_id": o.project.id},
        lambda o, t: t.is_active and t.project_id == o.project.id,
    ),
    "assignedTo=me": FilterCase(
        "first",
        "dueDate",
        lambda o: {"assigned_to": "me"},
        lambda o, t: t.is_active and t.assigned_to == o.first.id,
    ),
    "assignedTo=<id>": FilterCase(
        "owner",
        "-createdAt",
        lambda o: {"assigned_to": o.second.id},
        lambda o, t: t.is_active and t.assigned_to == o.second.id,
    ),
    "status": FilterCase(
        "second",
        "-createdAt",
        lambda o: {"status": TaskStatus.COMPLETED},
        lambda o, t: t.is_active and t.status is TaskStatus.COMPLETED,
    ),
    "status+projectId": FilterCase(
        "owner",
        "dueDate",
        lambda o: {"status": TaskStatus.PENDING, "project_id": o.other_project.id},
        lambda o, t: (
            t.is_active and t.status is TaskStatus.PENDING and t.project_id == o.other_project.id
        ),
    ),
    "dueBefore": FilterCase(
        "first",
        "dueDate",
        lambda o: {"due_before": DUE_BEFORE},
        lambda o, t: t.is_active and _due_before(t, DUE_BEFORE),
    ),
    "dueBefore-by-creation": FilterCase(
        "first",
        "createdAt",
        lambda o: {"due_before": DUE_BEFORE},
        lambda o, t: t.is_active and _due_before(t, DUE_BEFORE),
    ),
    "all-of-them": FilterCase(
        "admin",
        "-dueDate",
        lambda o: {
            "project_id": o.project.id,
            "assigned_to": o.second.id,
            "status": TaskStatus.ASSIGNED,
            "due_before": DUE_BEFORE_LATE,
        },
        lambda o, t: (
            t.is_active
            and t.project_id == o.project.id
            and t.assigned_to == o.second.id
            and t.status is TaskStatus.ASSIGNED
            and _due_before(t, DUE_BEFORE_LATE)
        ),
    ),
    "isActive=false-admin": FilterCase(
        "admin",
        "createdAt",
        lambda o: {"is_active": False},
        lambda o, t: not t.is_active,
    ),
    "isActive=false-owner": FilterCase(
        "owner",
        "dueDate",
        lambda o: {"is_active": False, "project_id": o.project.id},
        lambda o, t: not t.is_active and t.project_id == o.project.id,
    ),
    "isActive=false-admin-assignedTo": FilterCase(
        "admin",
        "-createdAt",
        lambda o: {"is_active": False, "assigned_to": o.first.id},
        lambda o, t: not t.is_active and t.assigned_to == o.first.id,
    ),
}


@pytest.mark.parametrize("case", FILTERS.values(), ids=FILTERS.keys())
def test_given_a_filter_when_walked_page_by_page_then_exactly_its_tasks_come_in_order(
    office: Office, case: FilterCase
) -> None:
    # Given the tasks the filter selects, more than one page of them
    expected = [t for t in office.tasks if case.selects(office, t)]
    assert len(expected) > LIMIT

    # When they are walked page by page
    caller = principal_of(getattr(office, case.caller))
    seen = walk(caller, sort=case.sort, **case.filters(office))

    # Then exactly those come back, each once, in order: no page drops the filter
    assert seen == in_order(expected, case.sort)


@pytest.mark.parametrize(
    ("caller", "project"),
    [
        ("owner", None),
        ("owner", "other_project"),
        ("other_owner", "project"),
        ("first", "project"),
        ("first", None),
    ],
    ids=[
        "owner-without-projectId",
        "owner-naming-another-project",
        "another-manager",
        "user-with-projectId",
        "user",
    ],
)
def test_given_inactive_tasks_when_neither_admin_nor_project_owner_lists_them_then_403(
    office: Office, caller: str, project: str | None
) -> None:
    project_id = getattr(office, project).id if project else None

    with pytest.raises(Forbidden):
        walk(
            principal_of(getattr(office, caller)),
            sort="createdAt",
            is_active=False,
            project_id=project_id,
        )
