"""Delta sync (`GET /tasks?updatedSince=`, `GET /projects?updatedSince=`, issue 21.4) through the
real Lambda handlers against the local database, with writes between the pages.

The tests run with `APP_SYNC_SETTLE_SECONDS=0.5` (tests/conftest.py): an answer stops half a
second behind now, so a test waits `SETTLED` after its writes before it expects them synced.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, WITHOUT_OUTBOX, make_project, make_task, make_user
from tests.integration.lambda_events import FunctionApi
from todo_common import container
from todo_common.principal import Principal, Role
from todo_common.records import User

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
SETTLED = 0.7  # seconds: past the tests' settle window
TOMBSTONE_FIELDS = {"id", "isActive", "updatedAt"}


def token_of(user: User) -> str:
    return container.auth_service().login(user.email, DEFAULT_PASSWORD, "127.0.0.1").access_token


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def tasks() -> FunctionApi:
    return FunctionApi("tasks")


@pytest.fixture
def projects() -> FunctionApi:
    return FunctionApi("projects")


def sync_page(
    api: FunctionApi, path: str, token: str, since: str, cursor: str | None = None, limit: int = 2
) -> dict[str, Any]:
    query = {"updatedSince": since, "limit": str(limit)} | ({"cursor": cursor} if cursor else {})
    response = api.request("GET", path, token=token, query=query)
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    assert set(body) == {"items", "nextCursor", "nextSince"}
    return body


def sync_all(api: FunctionApi, path: str, token: str, since: str) -> tuple[list[Any], str]:
    """Every change since `since`, across pages, and the next sync's `since`."""
    items: list[Any] = []
    cursor = None
    while True:
        page = sync_page(api, path, token, since, cursor)
        items += page["items"]
        if page["nextCursor"] is None:
            return items, page["nextSince"]
        cursor = page["nextCursor"]


def patch(api: FunctionApi, path: str, token: str, **fields: Any) -> None:
    response = api.request("PATCH", path, token=token, json=fields)
    assert response.status == 200, response.body


def delete(api: FunctionApi, path: str, token: str) -> None:
    response = api.request("DELETE", path, token=token)
    assert response.status == 204, response.body


def test_given_writes_between_pages_then_nothing_is_skipped_and_changed_records_come_again(
    db: Db, clean: None, tasks: FunctionApi
) -> None:
    # Given six tasks, synced two per page by a USER
    owner, member = make_user(db, role=Role.MANAGER), make_user(db)
    project = make_project(db, owner)
    since = text(datetime.now(UTC) - timedelta(seconds=1))
    made = [make_task(db, project, description=f"task {n}") for n in range(6)]
    as_owner, as_member = token_of(owner), token_of(member)
    time.sleep(SETTLED)
    ordered = [t.id for t in sorted(made, key=lambda t: (t.updated_at, t.id))]
    first = sync_page(tasks, "/tasks", as_member, since)
    assert [item["id"] for item in first["items"]] == ordered[:2]

    # When, between pages, a task already read is changed, one not yet read is changed, and
    # one already read and one not yet read are deleted
    already, gone_read, gone_unread, later = ordered[0], ordered[1], ordered[3], ordered[5]
    patch(tasks, f"/tasks/{already}", as_owner, description="changed after page 1")
    patch(tasks, f"/tasks/{later}", as_owner, description="changed before it was read")
    delete(tasks, f"/tasks/{gone_read}", as_owner)
    delete(tasks, f"/tasks/{gone_unread}", as_owner)
    time.sleep(SETTLED)
    items = list(first["items"])
    cursor = first["nextCursor"]
    while cursor is not None:
        page = sync_page(tasks, "/tasks", as_member, since, cursor)
        items += page["items"]
        cursor = page["nextCursor"]

    # Then the pages are in write order, every task is there, and the last word on each is its
    # current state: the changes, and tombstones of the deleted ones
    order = [(instant(item["updatedAt"]), item["id"]) for item in items]
    assert order == sorted(order)
    last = {item["id"]: item for item in items}
    assert set(last) == {t.id for t in made}
    assert last[already]["description"] == "changed after page 1"
    assert [item["id"] for item in items].count(already) == 2  # seen before, and again later
    assert last[later]["description"] == "changed before it was read"
    for gone in (gone_read, gone_unread):
        assert last[gone] == {
            "id": gone,
            "isActive": False,
            "updatedAt": last[gone]["updatedAt"],
        }
        stored = db.tasks.find_one({"_id": ObjectId(gone)})
        assert stored is not None
        assert text(stored["updatedAt"]) == last[gone]["updatedAt"]


def test_given_a_write_inside_the_settle_window_then_the_next_sync_has_it_not_this_one(
    db: Db, clean: None, tasks: FunctionApi
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    token = token_of(owner)
    since = text(datetime.now(UTC) - timedelta(seconds=5))

    # When a task is written and a sync asks at once
    task = make_task(db, project, description="just now")
    items, next_since = sync_all(tasks, "/tasks", token, since)

    # Then this sync stops before it (it may still be in flight elsewhere), and says so
    assert items == []
    assert instant(next_since) <= task.updated_at
    # and the next sync, once the window has passed, has it; the one after that has nothing
    time.sleep(SETTLED)
    items, after = sync_all(tasks, "/tasks", token, next_since)
    assert [item["id"] for item in items] == [task.id]
    assert instant(after) > task.updated_at
    time.sleep(SETTLED)
    assert sync_all(tasks, "/tasks", token, after)[0] == []


def test_given_a_task_deleted_before_the_window_then_no_one_gets_its_tombstone(
    db: Db, clean: None, tasks: FunctionApi
) -> None:
    # Given a task deleted long ago, then (within the window) its assignee deleted, which frees
    # the deleted task too; and a task deleted within the window
    admin, owner, member = (make_user(db, role=r) for r in (Role.ADMIN, Role.MANAGER, Role.USER))
    leaver = make_user(db)
    project = make_project(db, owner)
    old = make_task(db, project, assignee=leaver, description="deleted before")
    recent = make_task(db, project, description="deleted within")
    as_owner = token_of(owner)
    delete(tasks, f"/tasks/{old.id}", as_owner)
    time.sleep(SETTLED)
    since = text(datetime.now(UTC))
    admin_principal = Principal(user_id=admin.id, role=Role.ADMIN, session_id=None)
    container.user_service().delete(admin_principal, leaver.id, None)
    delete(tasks, f"/tasks/{recent.id}", as_owner)
    time.sleep(SETTLED)
    freed = db.tasks.find_one({"description": "deleted before"}, WITHOUT_OUTBOX)
    assert freed is not None
    assert freed["assignedTo"] is None

    # When a USER and an ADMIN sync the window
    for who in (member, admin):
        items, _ = sync_all(tasks, "/tasks", token_of(who), since)

        # Then each gets the tombstone of the task deleted within it, and nothing of the other
        assert items == [{"id": recent.id, "isActive": False, "updatedAt": items[0]["updatedAt"]}]


def test_given_a_project_deleted_then_its_tombstone_and_its_tasks_tombstones_are_synced(
    db: Db, clean: None, tasks: FunctionApi, projects: FunctionApi
) -> None:
    owner, member = make_user(db, role=Role.MANAGER), make_user(db)
    project = make_project(db, owner, name="Secret plans", description="not for tombstones")
    task = make_task(db, project, description="hidden detail")
    since = text(datetime.now(UTC) - timedelta(seconds=1))
    delete(projects, f"/projects/{project.id}", token_of(owner))
    time.sleep(SETTLED)
    as_member = token_of(member)

    synced_projects, _ = sync_all(projects, "/projects", as_member, since)
    synced_tasks, _ = sync_all(tasks, "/tasks", as_member, since)

    assert [set(item) for item in synced_projects] == [TOMBSTONE_FIELDS]
    assert synced_projects[0]["id"] == project.id
    assert synced_projects[0]["isActive"] is False
    assert [set(item) for item in synced_tasks] == [TOMBSTONE_FIELDS]
    assert synced_tasks[0]["id"] == task.id
    assert "hidden detail" not in str(synced_tasks)
    assert "Secret" not in str(synced_projects)


def test_given_a_restored_project_then_the_sync_gives_it_and_its_tasks_back_in_full(
    db: Db, clean: None, tasks: FunctionApi, projects: FunctionApi
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    task = make_task(db, project, description="back again")
    as_owner = token_of(owner)
    delete(projects, f"/projects/{project.id}", as_owner)
    time.sleep(SETTLED)
    since = text(datetime.now(UTC))
    restored = projects.request("POST", f"/projects/{project.id}/restore", token=as_owner)
    assert restored.status == 200, restored.body
    time.sleep(SETTLED)

    synced_tasks, _ = sync_all(tasks, "/tasks", as_owner, since)

    assert [(item["id"], item["isActive"], item["description"]) for item in synced_tasks] == [
        (task.id, True, "back again")
    ]


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/tasks", {"updatedSince": "yesterday"}, "updatedSince"),
        ("/tasks", {"updatedSince": "0.5"}, "updatedSince"),
        ("/tasks", {"updatedSince": "2026-12-01T00:00:00Z", "projectId": "a" * 24}, "projectId"),
        ("/tasks", {"updatedSince": "2026-12-01T00:00:00Z", "assignedTo": "me"}, "assignedTo"),
        ("/tasks", {"updatedSince": "2026-12-01T00:00:00Z", "status": "PENDING"}, "status"),
        ("/tasks", {"updatedSince": "2026-12-01T00:00:00Z", "isActive": "false"}, "isActive"),
        ("/tasks", {"updatedSince": "2026-12-01T00:00:00Z", "sort": "-updatedAt"}, "sort"),
        ("/tasks", {"updatedSince": "2026-12-01T00:00:00Z", "sort": "dueDate"}, "sort"),
        ("/projects", {"updatedSince": "2026-12-01T00:00:00Z", "ownerId": "a" * 24}, "ownerId"),
        ("/projects", {"updatedSince": "2026-12-01T00:00:00Z", "q": "lau"}, "q"),
    ],
)
def test_given_a_bad_sync_request_then_422_naming_the_parameter(
    db: Db,
    clean: None,
    tasks: FunctionApi,
    projects: FunctionApi,
    path: str,
    query: dict[str, str],
    named: str,
) -> None:
    api = tasks if path == "/tasks" else projects
    response = api.request("GET", path, token=token_of(make_user(db)), query=query)
    assert response.status == 422, response.body
    problem = response.problem()
    assert [error["loc"] for error in problem["errors"]] == [["query", named]]


def test_given_a_list_cursor_then_a_sync_refuses_it_and_the_other_way_round(
    db: Db, clean: None, tasks: FunctionApi
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    for n in range(3):
        make_task(db, project, description=f"t{n}")
    token = token_of(owner)
    time.sleep(SETTLED)
    listed = tasks.request("GET", "/tasks", token=token, query={"limit": "1", "sort": "updatedAt"})
    list_cursor = listed.json()["nextCursor"]
    synced = sync_page(tasks, "/tasks", token, "2026-01-01T00:00:00Z", limit=1)

    mixed = tasks.request(
        "GET",
        "/tasks",
        token=token,
        query={"updatedSince": "2026-01-01T00:00:00Z", "cursor": list_cursor},
    )
    back = tasks.request(
        "GET", "/tasks", token=token, query={"sort": "updatedAt", "cursor": synced["nextCursor"]}
    )

    for response in (mixed, back):
        assert response.status == 422, response.body
        assert [e["loc"] for e in response.problem()["errors"]] == [["query", "cursor"]]
