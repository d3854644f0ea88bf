"""Projects and tasks over HTTP (SPEC §3, §5, §6 and docs/decisions.md): the team's story from
a new project to a finished task, the list filters, sorts and cursors, ETags, idempotent creates,
the delete/restore cascade and what deleting a user does to their tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import assert_problem, projects_and_tasks, stored_task
from tests.factories import make_project, make_task, make_user
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
PROJECT_KEYS = {
    "id",
    "name",
    "description",
    "ownerId",
    "isActive",
    "version",
    "createdAt",
    "updatedAt",
}
TASK_KEYS = {
    "id",
    "projectId",
    "description",
    "assignedTo",
    "status",
    "dueDate",
    "completedAt",
    "createdBy",
    "isActive",
    "version",
    "createdAt",
    "updatedAt",
}
NO_DUE_DATE = datetime.max.replace(tzinfo=UTC)  # "tasks without one sort last by dueDate"


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(response: httpx.Response) -> set[str]:
    return {item["id"] for item in _ok(response)["items"]}


def _walk(
    client: httpx.Client, path: str, params: dict[str, Any], headers: dict[str, str], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following `nextCursor` page by page; also the number of pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = _ok(client.get(path, params=query, headers=headers))
        assert page.keys() == {"items", "nextCursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            return items, pages
        assert pages < 20, "pagination does not end"


# -- the story -------------------------------------------------------------------------------


def test_given_a_team_when_a_project_runs_its_course_then_each_step_answers_as_the_spec_says(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    ada, as_ada = user_with_token(Role.USER)
    bob, as_bob = user_with_token(Role.USER)
    _, as_admin = user_with_token(Role.ADMIN)
    successor, as_successor = user_with_token(Role.MANAGER)

    # Given a MANAGER creates a project: 201, Location and ETag, owned by the MANAGER
    created = client.post(
        "/projects", json={"name": "Launch", "description": "Ship it"}, headers=as_manager
    )
    project = _ok(created, 201)
    assert project.keys() == PROJECT_KEYS
    assert project["ownerId"] == manager.id
    assert project["isActive"] is True
    assert project["version"] == 1
    assert created.headers["location"] == f"/projects/{project['id']}"
    assert created.headers["etag"] == '"1"'
    fetched = client.get(created.headers["location"], headers=as_bob)
    assert _ok(fetched) == project
    assert fetched.headers["etag"] == '"1"'

    def add(description: str, **extra: Any) -> dict[str, Any]:
        body = {"projectId": project["id"], "description": description, **extra}
        response = client.post("/tasks", json=body, headers=as_manager)
        task = _ok(response, 201)
        assert task.keys() == TASK_KEYS
        assert response.headers["location"] == f"/tasks/{task['id']}"
        assert response.headers["etag"] == '"1"'
        assert task["createdBy"] == manager.id
        assert task["completedAt"] is None
        return task

    # And adds tasks, assigning them to USERs
    docs = add("Write the docs")
    assert (docs["status"], docs["assignedTo"]) == ("PENDING", None)
    plan = add("Test plan", assignedTo=ada.id, dueDate="2030-01-01T09:00:00Z")
    assert (plan["status"], plan["assignedTo"]) == ("ASSIGNED", ada.id)
    assert plan["dueDate"] == "2030-01-01T09:00:00.000Z"
    notes = add("Release notes", assignedTo=ada.id)
    docs = _ok(
        client.patch(f"/tasks/{docs['id']}", json={"assignedTo": bob.id}, headers=as_manager)
    )
    assert (docs["status"], docs["assignedTo"], docs["version"]) == ("ASSIGNED", bob.id, 2)

    # When Ada lists her tasks, she sees exactly hers
    assert _ids(client.get("/tasks", params={"assignedTo": "me"}, headers=as_ada)) == {
        plan["id"],
        notes["id"],
    }
    assert _ids(client.get("/tasks", params={"assignedTo": "me"}, headers=as_bob)) == {docs["id"]}

    # And completes one: COMPLETED, completedAt set, version and ETag one up
    before = datetime.now(UTC)
    completing = client.patch(f"/tasks/{plan['id']}", json={"status": "COMPLETED"}, headers=as_ada)
    done = _ok(completing)
    assert done["status"] == "COMPLETED"
    assert done["assignedTo"] == ada.id
    assert before <= _instant(done["completedAt"]) <= datetime.now(UTC)
    assert done["version"] == plan["version"] + 1
    assert completing.headers["etag"] == f'"{done["version"]}"'
    mine_done = client.get(
        "/tasks", params={"assignedTo": "me", "status": "COMPLETED"}, headers=as_ada
    )
    assert _ids(mine_done) == {plan["id"]}

    # Bob, not the assignee, may not touch it; Ada may not reword hers
    assert_problem(
        client.patch(f"/tasks/{notes['id']}", json={"status": "COMPLETED"}, headers=as_bob), 403
    )
    assert_problem(
        client.patch(f"/tasks/{notes['id']}", json={"description": "Mine now"}, headers=as_ada),
        403,
    )

    # Then the MANAGER reopens it: back to ASSIGNED, completedAt cleared
    reopened = _ok(
        client.patch(f"/tasks/{plan['id']}", json={"status": "ASSIGNED"}, headers=as_manager)
    )
    assert (reopened["status"], reopened["assignedTo"]) == ("ASSIGNED", ada.id)
    assert reopened["completedAt"] is None

    # And an ADMIN hands the project to another MANAGER
    moved = _ok(
        client.patch(f"/projects/{project['id']}", json={"ownerId": successor.id}, headers=as_admin)
    )
    assert moved["ownerId"] == successor.id
    assert moved["version"] == project["version"] + 1

    # The former owner may no longer write it or its tasks; the new owner may
    assert_problem(
        client.patch(f"/projects/{project['id']}", json={"name": "Mine"}, headers=as_manager), 403
    )
    assert_problem(
        client.post(
            "/tasks", json={"projectId": project["id"], "description": "x"}, headers=as_manager
        ),
        403,
    )
    assert_problem(
        client.patch(f"/tasks/{docs['id']}", json={"description": "x"}, headers=as_manager), 403
    )
    renamed = _ok(
        client.patch(f"/projects/{project['id']}", json={"name": "Launch 2"}, headers=as_successor)
    )
    assert renamed["name"] == "Launch 2"
    _ok(
        client.post(
            "/tasks", json={"projectId": project["id"], "description": "Q&A"}, headers=as_successor
        ),
        201,
    )
    # Only an ADMIN changes ownerId, even the owner cannot hand it back
    assert_problem(
        client.patch(
            f"/projects/{project['id']}", json={"ownerId": manager.id}, headers=as_successor
        ),
        403,
    )


def test_given_an_admin_when_creating_a_project_then_any_active_manager_or_admin_may_own_it(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    admin, as_admin = user_with_token(Role.ADMIN)
    manager = make_user(db, role=Role.MANAGER)

    own = _ok(client.post("/projects", json={"name": "Default"}, headers=as_admin), 201)
    theirs = _ok(
        client.post("/projects", json={"name": "Theirs", "ownerId": manager.id}, headers=as_admin),
        201,
    )

    assert own["ownerId"] == admin.id
    assert own["description"] == ""
    assert theirs["ownerId"] == manager.id


def test_given_a_manager_when_creating_a_project_for_someone_else_then_403_and_nothing_stored(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, as_manager = user_with_token(Role.MANAGER)
    other = make_user(db, role=Role.MANAGER)
    before = projects_and_tasks(db)

    response = client.post("/projects", json={"name": "X", "ownerId": other.id}, headers=as_manager)

    assert_problem(response, 403)
    assert projects_and_tasks(db) == before


# -- status rules ----------------------------------------------------------------------------


def test_given_a_task_when_its_assignee_changes_then_its_status_follows_but_completed_stays(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    ada = make_user(db)
    bob = make_user(db)
    project = make_project(db, manager)
    task = make_task(db, project, assignee=ada)
    url = f"/tasks/{task.id}"

    unassigned = _ok(client.patch(url, json={"assignedTo": None}, headers=as_manager))
    assert (unassigned["status"], unassigned["assignedTo"]) == ("PENDING", None)
    assigned = _ok(client.patch(url, json={"assignedTo": bob.id}, headers=as_manager))
    assert (assigned["status"], assigned["assignedTo"]) == ("ASSIGNED", bob.id)
    done = _ok(client.patch(url, json={"status": "COMPLETED"}, headers=as_manager))
    assert done["completedAt"] is not None
    # Changing the assignee of a COMPLETED task does not reopen it
    handed = _ok(client.patch(url, json={"assignedTo": ada.id}, headers=as_manager))
    assert (handed["status"], handed["assignedTo"]) == ("COMPLETED", ada.id)
    assert handed["completedAt"] == done["completedAt"]
    # PUT without assignedTo or dueDate clears them; an open status must then be PENDING
    replaced = _ok(
        client.put(
            url,
            json={"projectId": project.id, "description": "Redo", "status": "PENDING"},
            headers=as_manager,
        )
    )
    assert (replaced["status"], replaced["assignedTo"], replaced["dueDate"]) == (
        "PENDING",
        None,
        None,
    )
    assert replaced["completedAt"] is None
    assert replaced["version"] == task.version + 5


def test_given_a_completed_task_of_a_deleted_user_when_reopened_as_assigned_then_422(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """SPEC §5: `assignedTo` must be an active user (else 422), and deleting a user leaves them
    no open task. A completed task keeps its deleted assignee (history), so reopening it as
    ASSIGNED would give the deleted user an open task again."""
    manager, as_manager = user_with_token(Role.MANAGER)
    _, as_admin = user_with_token(Role.ADMIN)
    ada = make_user(db)
    task = make_task(db, make_project(db, manager), assignee=ada, completed=True)
    assert client.delete(f"/users/{ada.id}", headers=as_admin).status_code == 204
    before = projects_and_tasks(db)

    response = client.patch(f"/tasks/{task.id}", json={"status": "ASSIGNED"}, headers=as_manager)

    assert_problem(response, 422)
    assert projects_and_tasks(db) == before
    open_for_ada = db["tasks"].count_documents(
        {"assignedTo": ada.id, "status": {"$ne": "COMPLETED"}}
    )
    assert open_for_ada == 0


def test_given_a_completed_task_of_a_deleted_user_when_reopened_unassigned_then_pending(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """The way to reopen such a task: clear the assignee with the open status that fits."""
    manager, as_manager = user_with_token(Role.MANAGER)
    ada = make_user(db, is_active=False)
    task = make_task(db, make_project(db, manager), assignee=ada, completed=True)

    response = client.patch(
        f"/tasks/{task.id}", json={"status": "PENDING", "assignedTo": None}, headers=as_manager
    )

    reopened = _ok(response)
    assert (reopened["status"], reopened["assignedTo"], reopened["completedAt"]) == (
        "PENDING",
        None,
        None,
    )


def test_given_a_task_created_completed_then_completed_at_is_set(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)

    task = _ok(
        client.post(
            "/tasks",
            json={"projectId": project.id, "description": "Already done", "status": "COMPLETED"},
            headers=as_manager,
        ),
        201,
    )

    assert task["status"] == "COMPLETED"
    assert task["completedAt"] is not None


def test_given_the_assignee_when_sending_unchanged_fields_with_a_status_then_it_is_allowed(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """Sending a field with its current value is not a change (the assignee's PUT of a read)."""
    ada, as_ada = user_with_token(Role.USER)
    project = make_project(db, make_user(db, role=Role.MANAGER))
    task = make_task(db, project, assignee=ada, description="Keep me")

    response = client.patch(
        f"/tasks/{task.id}",
        json={"status": "COMPLETED", "description": "Keep me", "projectId": project.id},
        headers=as_ada,
    )

    assert _ok(response)["status"] == "COMPLETED"
    assert stored_task(db, task.id)["description"] == "Keep me"


def test_given_a_manager_when_moving_a_task_then_only_between_projects_they_may_write(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    mine = make_project(db, manager)
    also_mine = make_project(db, manager)
    theirs = make_project(db, make_user(db, role=Role.MANAGER))
    task = make_task(db, mine)
    before = projects_and_tasks(db)

    refused = client.patch(f"/tasks/{task.id}", json={"projectId": theirs.id}, headers=as_manager)
    assert_problem(refused, 403)
    assert projects_and_tasks(db) == before
    moved = client.patch(f"/tasks/{task.id}", json={"projectId": also_mine.id}, headers=as_manager)

    assert _ok(moved)["projectId"] == also_mine.id


# -- filters ---------------------------------------------------------------------------------


def test_given_tasks_when_filtering_then_each_filter_of_spec_6_narrows_the_list(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    ada, as_ada = user_with_token(Role.USER)
    _, as_admin = user_with_token(Role.ADMIN)
    bob = make_user(db)
    manager = make_user(db, role=Role.MANAGER)
    alpha, beta = make_project(db, manager), make_project(db, manager)
    jan = datetime(2030, 1, 1, tzinfo=UTC)
    a1 = make_task(db, alpha, assignee=ada, due_date=jan).id
    a2 = make_task(db, alpha, assignee=bob, due_date=datetime(2030, 2, 1, tzinfo=UTC)).id
    a3 = make_task(db, alpha).id
    b1 = make_task(
        db, beta, assignee=ada, completed=True, due_date=datetime(2029, 12, 1, tzinfo=UTC)
    ).id
    gone = make_task(db, beta, assignee=ada, is_active=False).id

    def ids(headers: dict[str, str] = as_ada, **params: Any) -> set[str]:
        return _ids(client.get("/tasks", params=params, headers=headers))

    assert ids() == {a1, a2, a3, b1}
    assert ids(projectId=alpha.id) == {a1, a2, a3}
    assert ids(assignedTo=ada.id) == {a1, b1}
    assert ids(assignedTo="me") == {a1, b1}
    assert ids(as_admin, assignedTo="me") == set()
    assert ids(status="PENDING") == {a3}
    assert ids(status="ASSIGNED") == {a1, a2}
    assert ids(status="COMPLETED") == {b1}
    assert ids(dueBefore="2030-01-15T00:00:00Z") == {a1, b1}
    assert ids(dueBefore=jan.isoformat()) == {b1}  # strictly before
    assert ids(dueBefore="2030-01-01T00:00:00.001Z") == {a1, b1}
    assert ids(isActive="true") == {a1, a2, a3, b1}
    assert ids(as_admin, isActive="false") == {gone}
    assert ids(projectId=alpha.id, assignedTo="me", status="ASSIGNED") == {a1}
    assert ids(projectId=beta.id, dueBefore="2031-01-01T00:00:00Z", status="COMPLETED") == {b1}


def test_given_projects_when_filtering_then_owner_prefix_and_is_active_narrow_the_list(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    owner, as_owner = user_with_token(Role.MANAGER)
    other, as_other = user_with_token(Role.MANAGER)
    _, as_user = user_with_token(Role.USER)
    _, as_admin = user_with_token(Role.ADMIN)
    alpha = make_project(db, owner, name="Alpha").id
    alpine = make_project(db, owner, name="alpine").id
    beta = make_project(db, owner, name="Beta").id
    alps = make_project(db, other, name="ALPS").id
    old = make_project(db, owner, name="Alpha old", is_active=False).id

    def ids(headers: dict[str, str] = as_user, **params: Any) -> set[str]:
        return _ids(client.get("/projects", params=params, headers=headers))

    assert ids() == {alpha, alpine, beta, alps}
    assert ids(ownerId=owner.id) == {alpha, alpine, beta}
    assert ids(q="alp") == {alpha, alpine, alps}
    assert ids(q="ALP") == {alpha, alpine, alps}
    assert ids(q="alpha") == {alpha}
    assert ids(q="lp") == set()  # a prefix, not a substring
    assert ids(q="alp", ownerId=other.id) == {alps}
    assert ids(as_admin, isActive="false") == {old}
    assert ids(as_owner, isActive="false", ownerId=owner.id) == {old}
    assert ids(as_other, isActive="false", ownerId=other.id) == set()
    assert ids(as_admin, isActive="false", q="alpha ") == {old}
    assert_problem(client.get("/projects", params={"isActive": "false"}, headers=as_owner), 403)
    assert_problem(client.get("/projects", params={"isActive": "false"}, headers=as_user), 403)
    refused = client.get(
        "/projects", params={"isActive": "false", "ownerId": owner.id}, headers=as_other
    )
    assert_problem(refused, 403)


# -- sorts and cursors -----------------------------------------------------------------------


def _sort_key(item: dict[str, Any], field: str) -> tuple[Any, str]:
    if field == "name":
        return item["name"].lower(), item["id"]
    if field == "dueDate":
        due = item["dueDate"]
        return (_instant(due) if due else NO_DUE_DATE), item["id"]
    return _instant(item[field]), item["id"]


@pytest.mark.parametrize(
    "sort", ["createdAt", "-createdAt", "updatedAt", "-updatedAt", "dueDate", "-dueDate"]
)
def test_given_more_tasks_than_a_page_when_following_next_cursor_then_each_task_once_in_order(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, sort: str
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    elsewhere = make_project(db, manager)
    make_task(db, elsewhere, due_date=datetime(2020, 1, 1, tzinfo=UTC))  # filtered out
    dues = [
        datetime(2030, 3, 1, tzinfo=UTC),
        None,
        datetime(2030, 1, 1, tzinfo=UTC),
        datetime(2030, 2, 1, tzinfo=UTC),
        None,
    ]
    tasks = [make_task(db, project, due_date=due) for due in dues]
    for task in (tasks[3], tasks[0], tasks[4]):  # updatedAt in another order than createdAt
        _ok(client.patch(f"/tasks/{task.id}", json={"description": "touched"}, headers=as_manager))

    items, pages = _walk(client, "/tasks", {"sort": sort, "projectId": project.id}, as_manager, 2)

    assert pages == 3
    assert sorted(item["id"] for item in items) == sorted(task.id for task in tasks)
    field = sort.removeprefix("-")
    keys = [_sort_key(item, field) for item in items]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    if field == "dueDate" and not sort.startswith("-"):
        assert [item["dueDate"] for item in items][-2:] == [None, None]


@pytest.mark.parametrize("sort", ["name", "-name", "createdAt", "-createdAt", "updatedAt"])
def test_given_more_projects_than_a_page_when_following_next_cursor_then_each_once_in_order(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, sort: str
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    projects = [make_project(db, manager, name=name) for name in names]
    _ok(client.patch(f"/projects/{projects[1].id}", json={"description": "x"}, headers=as_manager))

    items, pages = _walk(client, "/projects", {"sort": sort}, as_manager, 2)

    assert pages == 3
    assert sorted(item["id"] for item in items) == sorted(p.id for p in projects)
    field = sort.removeprefix("-")
    keys = [_sort_key(item, field) for item in items]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    if field == "name":
        expected = ["Alpha", "Bravo", "charlie", "delta", "echo"]
        assert [item["name"] for item in items] == (
            expected[::-1] if sort.startswith("-") else expected
        )


def test_given_a_prefix_and_an_owner_when_paging_projects_then_the_cursor_keeps_the_filters(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    other = make_user(db, role=Role.MANAGER)
    wanted = [make_project(db, manager, name=f"match {n}").id for n in (2, 0, 1)]
    make_project(db, other, name="Match theirs")
    make_project(db, manager, name="Other")
    make_project(db, manager, name="Match gone", is_active=False)

    items, pages = _walk(
        client, "/projects", {"q": "MATCH", "ownerId": manager.id, "sort": "name"}, as_manager, 2
    )

    assert pages == 2
    assert [item["name"] for item in items] == ["match 0", "match 1", "match 2"]
    assert [item["id"] for item in items] == [wanted[1], wanted[2], wanted[0]]


def test_given_no_limit_when_listing_then_at_most_50_come_back_with_a_cursor(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    for _ in range(51):
        make_task(db, project)

    page = _ok(client.get("/tasks", headers=as_manager))

    assert len(page["items"]) == 50
    assert page["nextCursor"]
    rest = _ok(client.get("/tasks", params={"cursor": page["nextCursor"]}, headers=as_manager))
    assert len(rest["items"]) == 1
    assert rest["nextCursor"] is None


# -- ETag / If-Match -------------------------------------------------------------------------

WRITES = [
    ("PUT", "", {"name": "Renamed", "description": "d"}, {"projectId": None, "status": "PENDING"}),
    ("PATCH", "", {"description": "patched"}, {"description": "patched"}),
    ("DELETE", "", None, None),
    ("POST", "/restore", None, None),
]


@pytest.mark.parametrize("resource", ["projects", "tasks"])
@pytest.mark.parametrize(
    ("method", "suffix", "project_body", "task_body"), WRITES, ids=[w[0] + w[1] for w in WRITES]
)
def test_given_a_stale_if_match_when_writing_then_412_unchanged_and_the_current_etag_succeeds(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    resource: str,
    method: str,
    suffix: str,
    project_body: dict[str, Any] | None,
    task_body: dict[str, Any] | None,
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    task = make_task(db, project)
    url = f"/{resource}/{project.id if resource == 'projects' else task.id}"
    body = project_body if resource == "projects" else task_body
    if body is not None and "projectId" in body:
        body = {**body, "projectId": project.id, "description": "replaced"}
    # someone else changed it since version 1 was read (a restore needs a deleted record)
    if suffix == "/restore":
        assert client.delete(url, headers=as_manager).status_code == 204
    else:
        _ok(client.patch(url, json={"description": "meanwhile"}, headers=as_manager))
    current = client.get(url, headers=as_manager).headers["etag"]
    assert current == '"2"'
    before = projects_and_tasks(db)

    stale = client.request(
        method, url + suffix, json=body, headers={**as_manager, "If-Match": '"1"'}
    )

    assert_problem(stale, 412)
    assert projects_and_tasks(db) == before
    fresh = client.request(
        method, url + suffix, json=body, headers={**as_manager, "If-Match": current}
    )
    assert fresh.status_code in (200, 204), fresh.text
    if fresh.status_code == 200:
        assert fresh.headers["etag"] == f'"{fresh.json()["version"]}"'
        assert fresh.json()["version"] == 3


# -- Idempotency-Key -------------------------------------------------------------------------


def _create_body(resource: str, project_id: str, text: str) -> dict[str, Any]:
    if resource == "projects":
        return {"name": text, "description": "idempotent"}
    return {"projectId": project_id, "description": text}


@pytest.mark.parametrize("resource", ["projects", "tasks"])
def test_given_an_idempotency_key_when_the_create_is_retried_then_replayed_and_created_once(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    resource: str,
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    headers = {**as_manager, "Idempotency-Key": f"create-{resource}-1"}
    body = _create_body(resource, project.id, "Once only")

    first = client.post(f"/{resource}", json=body, headers=headers)
    count = db[resource].count_documents({})
    retry = client.post(f"/{resource}", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert db[resource].count_documents({}) == count
    field = "name" if resource == "projects" else "description"
    assert db[resource].count_documents({field: "Once only"}) == 1


@pytest.mark.parametrize("resource", ["projects", "tasks"])
def test_given_a_used_idempotency_key_when_sent_with_another_body_then_422_and_nothing_created(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    resource: str,
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    headers = {**as_manager, "Idempotency-Key": f"create-{resource}-once"}
    first = client.post(
        f"/{resource}", json=_create_body(resource, project.id, "A"), headers=headers
    )
    assert first.status_code == 201, first.text
    before = projects_and_tasks(db)

    response = client.post(
        f"/{resource}", json=_create_body(resource, project.id, "B"), headers=headers
    )

    problem = assert_problem(response, 422)
    assert ["header", "Idempotency-Key"] in [e["loc"] for e in problem["errors"]]
    assert projects_and_tasks(db) == before


# -- delete, cascade and restore -------------------------------------------------------------


def test_given_a_deleted_project_then_its_tasks_are_hidden_and_restore_brings_back_its_own(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    ada, as_ada = user_with_token(Role.USER)
    _, as_other_manager = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    open_task = make_task(db, project, assignee=ada)
    done_task = make_task(db, project, assignee=ada, completed=True)
    deleted_alone = make_task(db, project, is_active=False)
    unrelated = make_task(db, make_project(db, manager), assignee=ada)
    cascaded = {open_task.id, done_task.id}

    # When the owner deletes the project
    assert client.delete(f"/projects/{project.id}", headers=as_manager).status_code == 204

    # Then to a USER the project and its tasks are gone (404), lists skip them
    assert_problem(client.get(f"/projects/{project.id}", headers=as_ada), 404)
    for task_id in cascaded:
        assert_problem(client.get(f"/tasks/{task_id}", headers=as_ada), 404)
    assert _ids(client.get("/tasks", params={"assignedTo": "me"}, headers=as_ada)) == {unrelated.id}
    hidden = {"isActive": "false", "projectId": project.id}
    assert_problem(client.get("/tasks", params=hidden, headers=as_ada), 403)
    assert_problem(client.get("/tasks", params=hidden, headers=as_other_manager), 403)
    # The owner still sees them, through isActive=false&projectId=…, one version up
    assert _ids(client.get("/tasks", params=hidden, headers=as_manager)) == cascaded | {
        deleted_alone.id
    }
    assert _ok(client.get(f"/projects/{project.id}", headers=as_manager))["isActive"] is False
    assert _ok(client.get(f"/tasks/{open_task.id}", headers=as_manager))["version"] == 2
    # A task cannot come back while its project is deleted
    assert_problem(client.post(f"/tasks/{open_task.id}/restore", headers=as_manager), 409)

    # When the owner restores the project
    restored = _ok(client.post(f"/projects/{project.id}/restore", headers=as_manager))

    # Then exactly the tasks its delete took down are back; the one deleted alone stays deleted
    assert restored["isActive"] is True
    assert _ok(client.get(f"/projects/{project.id}", headers=as_ada))["isActive"] is True
    visible = _ids(client.get("/tasks", params={"projectId": project.id}, headers=as_ada))
    assert visible == cascaded
    assert_problem(client.get(f"/tasks/{deleted_alone.id}", headers=as_ada), 404)
    assert stored_task(db, open_task.id)["version"] == 3
    assert stored_task(db, open_task.id)["status"] == "ASSIGNED"
    assert stored_task(db, done_task.id)["status"] == "COMPLETED"


def test_given_a_deleted_task_when_its_owner_restores_it_then_it_is_visible_again(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, as_manager = user_with_token(Role.MANAGER)
    _, as_user = user_with_token(Role.USER)
    task = make_task(db, make_project(db, manager))

    assert client.delete(f"/tasks/{task.id}", headers=as_manager).status_code == 204
    assert_problem(client.get(f"/tasks/{task.id}", headers=as_user), 404)
    assert _ok(client.get(f"/tasks/{task.id}", headers=as_manager))["isActive"] is False
    # deleting again is harmless
    assert client.delete(f"/tasks/{task.id}", headers=as_manager).status_code == 204
    restored = _ok(client.post(f"/tasks/{task.id}/restore", headers=as_manager))

    assert restored["isActive"] is True
    assert restored["version"] == 3
    assert _ok(client.get(f"/tasks/{task.id}", headers=as_user))["id"] == task.id


@pytest.mark.parametrize("how", ["DELETE", "PATCH isActive=false"])
def test_given_a_user_with_tasks_when_an_admin_deletes_them_then_open_tasks_return_to_pending(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, how: str
) -> None:
    _, as_admin = user_with_token(Role.ADMIN)
    ada, as_ada = user_with_token(Role.USER)
    bob = make_user(db)
    project = make_project(db, make_user(db, role=Role.MANAGER))
    open_one = make_task(db, project, assignee=ada)
    open_two = make_task(db, make_project(db, make_user(db, role=Role.MANAGER)), assignee=ada)
    finished = make_task(db, project, assignee=ada, completed=True)
    bobs = make_task(db, project, assignee=bob)

    if how == "DELETE":
        response = client.delete(f"/users/{ada.id}", headers=as_admin)
    else:
        response = client.patch(f"/users/{ada.id}", json={"isActive": False}, headers=as_admin)

    assert response.status_code in (200, 204), response.text
    for task in (open_one, open_two):
        after = _ok(client.get(f"/tasks/{task.id}", headers=as_admin))
        assert (after["status"], after["assignedTo"]) == ("PENDING", None)
        assert after["version"] == task.version + 1
    kept = _ok(client.get(f"/tasks/{finished.id}", headers=as_admin))
    assert (kept["status"], kept["assignedTo"]) == ("COMPLETED", ada.id)  # history stays
    assert kept["version"] == finished.version
    untouched = _ok(client.get(f"/tasks/{bobs.id}", headers=as_admin))
    assert (untouched["assignedTo"], untouched["version"]) == (bob.id, bobs.version)
    assert client.get("/tasks", headers=as_ada).status_code == 401  # and their session ended
    assert _ids(client.get("/tasks", params={"assignedTo": ada.id}, headers=as_admin)) == {
        finished.id
    }


def test_given_an_unknown_task_or_project_id_when_read_then_404(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    _, as_admin = user_with_token(Role.ADMIN)

    assert_problem(client.get(f"/tasks/{ObjectId()}", headers=as_admin), 404)
    assert_problem(client.get(f"/projects/{ObjectId()}", headers=as_admin), 404)
