"""The typed Python client (clients/python/) against `make dev`'s gateway: one team's whole day
through the client only, its session against the real server (refresh, idempotent creates), and
`pip install ./clients/python` with the README's example in a fresh virtual environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import venv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.conftest import ROOT
from tests.e2e.support import AUDIT_DEADLINE_SECONDS
from tests.factories import DEFAULT_PASSWORD, make_user
from todo_api_client.api.projects import create_project
from todo_api_client.api.reports import list_audits, project_summary, user_workload
from todo_api_client.api.tasks import (
    create_task,
    delete_task,
    get_task,
    list_tasks,
    patch_task,
)
from todo_api_client.api.users import create_user, me
from todo_api_client.models import (
    AuditAction,
    AuditEntity,
    AuditPublic,
    ProjectCreate,
    Role,
    TaskCreate,
    TaskPatch,
    TaskStatus,
    UserCreate,
)
from todo_api_client.session import ApiError, Session
from todo_common.principal import Role as StoredRole

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def _eventually(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """Read until `done` (the audit trail arrives through SQS and the worker); fail at the
    deadline with what was last read."""
    deadline = time.monotonic() + AUDIT_DEADLINE_SECONDS
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not there within {AUDIT_DEADLINE_SECONDS} s: {value}")
        time.sleep(0.2)


def _new_user(admin: Session, name: str, role: Role) -> Any:
    body = UserCreate(
        username=name,
        email=f"{name}@example.com",
        full_name=name.title(),
        password=DEFAULT_PASSWORD,
        role=role,
    )
    return admin.call(create_user.sync_detailed, body=body)


def test_a_team_works_through_the_typed_client_alone(
    gateway_url: str, db: Database[dict[str, Any]], audit_queue: object
) -> None:
    # The first ADMIN comes from the CLI in a deployment; everything after it is the client.
    root = make_user(db, role=StoredRole.ADMIN)
    with Session.login(gateway_url, root.email, DEFAULT_PASSWORD) as admin:
        lead = _new_user(admin, "lead", Role.MANAGER)
        dev = _new_user(admin, "dev", Role.USER)

    with Session.login(gateway_url, lead.email, DEFAULT_PASSWORD) as manager:
        project = manager.call(create_project.sync_detailed, body=ProjectCreate(name="Launch"))
        tasks = [
            manager.call(
                create_task.sync_detailed,
                body=TaskCreate(project_id=project.id, description=text, assigned_to=dev.id),
            )
            for text in ("Write the notes", "Record the demo", "Send the invites")
        ]
    assert project.owner_id == lead.id
    assert all(task.status == TaskStatus.ASSIGNED for task in tasks)

    with Session.login(gateway_url, dev.email, DEFAULT_PASSWORD) as user:
        assert user.call(me.sync_detailed).role == Role.USER
        mine = list(user.pages(list_tasks.sync_detailed, assigned_to=dev.id, limit=2))
        first = user.call(get_task.sync_detailed, task_id=tasks[0].id)
        done = user.call(
            patch_task.sync_detailed,
            task_id=first.id,
            body=TaskPatch(status=TaskStatus.COMPLETED),
            if_match=f'"{first.version}"',
        )
        with pytest.raises(ApiError) as stale:  # the version read before the change
            user.call(
                patch_task.sync_detailed,
                task_id=first.id,
                body=TaskPatch(description="Too late"),
                if_match=f'"{first.version}"',
            )
    assert sorted(task.id for task in mine) == sorted(task.id for task in tasks)
    assert done.status == TaskStatus.COMPLETED
    assert done.version == first.version + 1
    assert stale.value.status == 412
    assert stale.value.problem is not None
    assert stale.value.problem.request_id

    with Session.login(gateway_url, root.email, DEFAULT_PASSWORD) as admin:
        summary = admin.call(project_summary.sync_detailed, project_id=project.id)
        workload = admin.call(user_workload.sync_detailed, user_id=dev.id)
        trail: list[AuditPublic] = _eventually(
            lambda: list(admin.pages(list_audits.sync_detailed, entity=AuditEntity.TASK)),
            lambda records: len(records) >= len(tasks) + 1,
        )
    assert (summary.total, summary.by_status.completed, summary.by_status.assigned) == (3, 1, 2)
    assert summary.completion_rate == round(1 / 3, 4)
    assert (workload.open_, workload.completed) == (2, 1)
    created = {r.entity_id for r in trail if r.action == AuditAction.CREATE}
    assert created == {task.id for task in tasks}
    (completion,) = [r for r in trail if r.action == AuditAction.UPDATE]
    assert (completion.entity_id, completion.actor_id) == (first.id, dev.id)
    assert completion.changes.additional_properties["status"].to == TaskStatus.COMPLETED.value


def test_an_expired_access_token_is_refreshed_and_the_request_answered(
    gateway_url: str, db: Database[dict[str, Any]]
) -> None:
    user = make_user(db, role=StoredRole.USER)
    with Session.login(gateway_url, user.email, DEFAULT_PASSWORD) as session:
        session._flow.access = "no-longer-valid"  # as after expiry or a key rotation
        assert session.call(me.sync_detailed).id == str(user.id)
        assert session.call(me.sync_detailed).id == str(user.id)
        # the refreshed tokens belong to the same live session: logging out ends it, and the
        # next request's refresh is refused
        session.logout()
        with pytest.raises(ApiError) as ended:
            session.call(me.sync_detailed)
    assert ended.value.status == 401


def test_a_retried_create_with_the_same_key_creates_once(
    gateway_url: str, db: Database[dict[str, Any]]
) -> None:
    lead = make_user(db, role=StoredRole.MANAGER)
    with Session.login(gateway_url, lead.email, DEFAULT_PASSWORD) as manager:
        body = ProjectCreate(name="Once")
        first = manager.call(create_project.sync_detailed, body=body, idempotency_key="k-1")
        again = manager.call(create_project.sync_detailed, body=body, idempotency_key="k-1")
        other = manager.call(create_project.sync_detailed, body=body)
    assert again.id == first.id
    assert other.id != first.id
    assert db["projects"].count_documents({"_id": ObjectId(first.id)}) == 1
    assert db["projects"].count_documents({"name": "Once"}) == 2


def _mirror(api: Session, held: dict[str, Any], since: datetime | None) -> datetime | None:
    """The README's sync loop: apply every change since `since` to `held`; the next `since`."""
    feed = api.sync(list_tasks.sync_detailed, since=since, limit=2)
    for change in feed:
        if change.is_active:
            held[change.id] = change
        else:
            held.pop(change.id, None)
    return feed.next_since


def test_a_client_mirrors_the_tasks_with_sync_through_changes_and_deletes(
    gateway_url: str, db: Database[dict[str, Any]]
) -> None:
    lead = make_user(db, role=StoredRole.MANAGER)
    settle = float(os.environ["APP_SYNC_SETTLE_SECONDS"]) + 0.2
    held: dict[str, Any] = {}
    with Session.login(gateway_url, lead.email, DEFAULT_PASSWORD) as api:
        project = api.call(create_project.sync_detailed, body=ProjectCreate(name="Mirror"))
        made = [
            api.call(
                create_task.sync_detailed,
                body=TaskCreate(project_id=project.id, description=f"task {n}"),
            )
            for n in range(5)
        ]
        time.sleep(settle)
        since = _mirror(api, held, None)  # the first sync: everything
        assert {t.id for t in made} <= set(held)

        changed = api.call(
            patch_task.sync_detailed,
            task_id=made[0].id,
            body=TaskPatch(description="changed"),
            if_match=f'"{made[0].version}"',
        )
        deleted = api.call(delete_task.sync_detailed, task_id=made[1].id)
        added = api.call(
            create_task.sync_detailed, body=TaskCreate(project_id=project.id, description="new")
        )
        time.sleep(settle)
        since = _mirror(api, held, since)

        current = {t.id: t for t in api.pages(list_tasks.sync_detailed, limit=200)}
    assert deleted is None
    assert since is not None
    assert set(held) == set(current)  # the deleted one is gone, the new one is there
    assert added.id in held
    assert made[1].id not in held
    assert held[made[0].id].description == "changed"
    assert held[made[0].id].version == changed.version


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- client-example -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md lost its client example"
    return match.group(1)


def test_the_readme_example_runs_from_a_fresh_install(
    gateway_url: str, db: Database[dict[str, Any]], tmp_path: Path
) -> None:
    """`pip install ./clients/python` in an empty virtual environment, then the README's ten
    lines, with only the address and the account changed."""
    example = _readme_example()
    assert len([line for line in example.splitlines() if line.strip()]) <= 10
    lead = make_user(db, role=StoredRole.MANAGER)
    script = (
        example.replace("https://todo.example.com", gateway_url)
        .replace("lead@example.com", lead.email)
        .replace("my-password", DEFAULT_PASSWORD)
    )
    home = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(home)
    python = home / "bin" / "python"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    source = shutil.copytree(ROOT / "clients" / "python", tmp_path / "client")  # builds in place
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(source)],
        check=True,
        env=environment,
        timeout=300,
    )
    ran = subprocess.run(
        [python, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    stored = db["tasks"].find_one({"description": "Write the notes"})
    assert stored is not None
    assert str(stored["_id"]) in ran.stdout
