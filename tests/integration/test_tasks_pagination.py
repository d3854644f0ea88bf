"""Cursor pagination over 1,000 tasks: every task exactly once, in order, even while others arrive.

Creation times and due dates are shuffled against insertion order (so against `_id`) and tie
often, so a page boundary that compares the wrong field or drops the `_id` tie-breaker shows.
The 1,000 tasks are inserted once for this module and never changed by its tests (the tasks a
test adds are removed after it), which keeps the module to seconds on FerretDB.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.factories import make_project, make_task, make_tasks, make_user, shuffled_task_specs
from tests.servers import emptied_database
from todo_common import container
from todo_common.principal import Principal, Role
from todo_common.records import Project, Task, User
from todo_common.repositories.tasks import NO_DUE_DATE

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
TOTAL = 1000
UNDATED = 167  # one in six of them has no due date
FIRST_DUE = datetime(2031, 3, 1, tzinfo=UTC)


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id=f"session-of-{user.id}")


def in_order(tasks: list[Task], sort: str) -> list[str]:
    """The ids in the order the API promises: the sort field, then the id; no due date last."""

    def key(task: Task) -> tuple[datetime, str]:
        if sort.removeprefix("-") == "createdAt":
            return task.created_at, task.id
        return task.due_date or NO_DUE_DATE, task.id

    return [t.id for t in sorted(tasks, key=key, reverse=sort.startswith("-"))]


@dataclass
class Walk:
    ids: list[str]
    page_sizes: list[int]


def walk(
    principal: Principal,
    project: Project,
    *,
    sort: str,
    limit: int,
    between_pages: Callable[[], None] = lambda: None,
) -> Walk:
    """Follow `nextCursor` through a project's tasks to the end, through TaskService.list."""
    service = container.task_service()
    result = Walk([], [])
    cursor: str | None = None
    for _ in range(TOTAL):  # a bound, so that a cursor that loops fails instead of hanging
        page = service.list(
            principal,
            project_id=project.id,
            assigned_to=None,
            status=None,
            due_before=None,
            is_active=None,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        result.ids.extend(t.id for t in page.items)
        result.page_sizes.append(len(page.items))
        if page.next_cursor is None:
            return result
        cursor = page.next_cursor
        between_pages()
    pytest.fail("the cursor never reached the end")


@dataclass
class Backlog:
    db: Db
    admin: Principal
    owner: User
    project: Project
    tasks: list[Task]


@pytest.fixture(scope="module")
def backlog(_servers: None) -> Backlog:
    """1,000 tasks in one project, inserted in one batch into otherwise empty collections."""
    db = emptied_database()
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    specs = shuffled_task_specs(TOTAL, seed=1000, first_due=FIRST_DUE)
    tasks = make_tasks(db, project, specs, created_by=owner)
    return Backlog(db, principal_of(make_user(db, role=Role.ADMIN)), owner, project, tasks)


@pytest.mark.parametrize(
    ("sort", "limit"), [("createdAt", 50), ("-createdAt", 137), ("dueDate", 200)]
)
def test_given_1000_tasks_when_walked_then_each_comes_once_in_order(
    backlog: Backlog, sort: str, limit: int
) -> None:
    # When an ADMIN follows nextCursor through the project's tasks
    seen = walk(backlog.admin, backlog.project, sort=sort, limit=limit)

    # Then every task comes exactly once, in the promised order, in full pages but the last
    assert seen.ids == in_order(backlog.tasks, sort)
    full, last = divmod(TOTAL, limit)
    assert seen.page_sizes == [limit] * full + ([last] if last else [])


def test_given_tasks_without_a_due_date_when_walked_by_due_date_then_they_come_last(
    backlog: Backlog,
) -> None:
    # When a USER walks the project by due date
    user = principal_of(make_user(backlog.db))
    seen = walk(user, backlog.project, sort="dueDate", limit=200)

    # Then the dated tasks come first, earliest first, and the undated ones after all of them
    due = {t.id: t.due_date for t in backlog.tasks}
    assert sum(1 for d in due.values() if d is None) == UNDATED
    assert all(due[i] is None for i in seen.ids[-UNDATED:])
    dated = [d for d in (due[i] for i in seen.ids[:-UNDATED]) if d is not None]
    assert len(dated) == TOTAL - UNDATED
    assert dated == sorted(dated)


class Arrivals(threading.Thread):
    """A second client creating tasks in the project, one after the other, until stopped."""

    def __init__(self, db: Db, project: Project) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.project = project
        self.tasks: list[Task] = []
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        rng = random.Random(7)
        try:
            while not self._stopping.wait(0.002):
                due = None if rng.random() < 0.2 else FIRST_DUE + timedelta(days=rng.randrange(40))
                self.tasks.append(make_task(self.db, self.project, due_date=due))
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def wait_for_one_more(self) -> None:
        """Return once at least one more task has arrived (called between two pages)."""
        seen = len(self.tasks)
        deadline = time.monotonic() + 10
        while len(self.tasks) <= seen and self.error is None:
            assert time.monotonic() < deadline, "no task arrived"
            time.sleep(0.001)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)


@pytest.fixture
def arrivals(backlog: Backlog) -> Iterator[Arrivals]:
    thread = Arrivals(backlog.db, backlog.project)
    thread.start()
    yield thread
    thread.stop()
    # leave the module's 1,000 tasks alone for the next test
    added = [ObjectId(task.id) for task in thread.tasks]
    backlog.db.tasks.delete_many({"_id": {"$in": added}})
    assert backlog.db.tasks.count_documents({}) == TOTAL


@pytest.mark.parametrize("sort", ["createdAt", "-createdAt", "dueDate"])
def test_given_tasks_arriving_during_a_walk_then_none_repeats_and_no_original_is_missed(
    backlog: Backlog, arrivals: Arrivals, sort: str
) -> None:
    # Given a second client creating tasks in the same project all along
    arrivals.wait_for_one_more()

    # When the project is walked 200 at a time, with more tasks arriving between every two pages
    seen = walk(
        backlog.admin,
        backlog.project,
        sort=sort,
        limit=200,
        between_pages=arrivals.wait_for_one_more,
    )
    arrivals.stop()

    # Then no task comes twice, and all 1,000 originals come, in order
    assert arrivals.error is None, arrivals.error
    assert len(arrivals.tasks) >= len(seen.page_sizes), "tasks arrive between every two pages"
    assert len(seen.ids) == len(set(seen.ids))
    expected = in_order(backlog.tasks, sort)
    original = set(expected)
    assert [i for i in seen.ids if i in original] == expected
    # and whatever else came is one of the newcomers
    assert set(seen.ids) - original <= {t.id for t in arrivals.tasks}
    if sort == "createdAt":
        # newer than every original, the newcomers can only follow them
        assert seen.ids[:TOTAL] == expected
