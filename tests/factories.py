"""Test data, created through the same repository code the API uses."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from todo_common import container
from todo_common.instants import utcnow
from todo_common.principal import Role, Scope
from todo_common.records import AccessToken, Project, Task, TaskStatus, User
from todo_common.repositories.access_tokens import AccessTokenRepository
from todo_common.repositories.projects import ProjectRepository, project_search_keys
from todo_common.repositories.tasks import TaskRepository, due_fields
from todo_common.repositories.users import UserRepository, user_fields
from todo_common.security.access_tokens import new_token, token_hash
from todo_common.security.passwords import hash_password

DEFAULT_PASSWORD = "correct-horse-9"
# A projection for "the data did not change" snapshots: the audit outbox is bookkeeping that the
# background sender clears at its own pace.
WITHOUT_OUTBOX = {"outbox": 0, "outboxCount": 0}
_counter = itertools.count(1)


def make_user(
    db: Database[dict[str, Any]],
    *,
    role: Role = Role.USER,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
    username: str | None = None,
    email: str | None = None,
    full_name: str | None = None,
) -> User:
    n = next(_counter)
    username = username or f"{role.value.lower()}{n}"
    full_name = full_name or f"Test {role.value.title()} {n}"
    doc = UserRepository(db, container.server()).insert(
        user_fields(
            username=username,
            email=email or f"{username}@example.com",
            full_name=full_name,
            password_hash=hash_password(password, 4),
            role=role,
            is_active=is_active,
        )
    )
    return User.from_document(doc)


def make_access_token(
    db: Database[dict[str, Any]],
    owner: User,
    *,
    scopes: Sequence[Scope] = (Scope.READ,),
    expires_in: timedelta = timedelta(days=30),
    name: str = "CI",
) -> tuple[AccessToken, str]:
    """A personal access token stored as `AccessTokenService.create` stores one (without its
    audit event), and its value."""
    token = new_token()
    doc = AccessTokenRepository(db, container.server()).insert(
        AccessToken.document(
            user_id=owner.id,
            name=name,
            scopes=[s.value for s in Scope if s in scopes],
            token_hash=token_hash(token),
            expires_at=utcnow() + expires_in,
            is_active=True,
            revoked_at=None,
            last_used_at=None,
            last_used_from=None,
        )
    )
    return AccessToken.from_document(doc), token


def make_project(
    db: Database[dict[str, Any]],
    owner: User,
    *,
    name: str | None = None,
    description: str = "",
    is_active: bool = True,
) -> Project:
    """A project stored as `ProjectService.create` stores one; an inactive one carries no
    `cascadeId`, as if deleted before it had tasks."""
    name = name or f"Project {next(_counter)}"
    doc = ProjectRepository(db, container.server()).insert(
        {
            "name": name,
            "description": description,
            "ownerId": owner.id,
            "isActive": is_active,
            "cascadeId": None,
            **project_search_keys(name),
        }
    )
    return Project.from_document(doc)


@dataclass(frozen=True)
class TaskSpec:
    """One task for `make_task`/`make_tasks`: open tasks are ASSIGNED with an assignee, PENDING
    without; `completed` makes it COMPLETED (keeping the assignee)."""

    description: str | None = None
    assignee: User | None = None
    completed: bool = False
    due_date: datetime | None = None
    is_active: bool = True
    created_at: datetime | None = None  # make_tasks only; make_task stores "now"


def _task_fields(project: Project, created_by: str, spec: TaskSpec, n: int) -> dict[str, Any]:
    """The fields `TaskService.create` stores, `dueSort` included."""
    if spec.completed:
        status = TaskStatus.COMPLETED
    else:
        status = TaskStatus.ASSIGNED if spec.assignee else TaskStatus.PENDING
    return {
        "projectId": project.id,
        "description": spec.description or f"Task {n}",
        "assignedTo": spec.assignee.id if spec.assignee else None,
        "status": status.value,
        "completedAt": utcnow() if spec.completed else None,
        "createdBy": created_by,
        "isActive": spec.is_active,
        "cascadeId": None,
        **due_fields(spec.due_date),
    }


def make_task(
    db: Database[dict[str, Any]],
    project: Project,
    *,
    created_by: User | None = None,
    description: str | None = None,
    assignee: User | None = None,
    completed: bool = False,
    due_date: datetime | None = None,
    is_active: bool = True,
) -> Task:
    """A task stored through `TaskRepository.insert`, created by the project's owner by default."""
    spec = TaskSpec(description, assignee, completed, due_date, is_active)
    creator = created_by.id if created_by else project.owner_id
    fields = _task_fields(project, creator, spec, next(_counter))
    return Task.from_document(TaskRepository(db, container.server()).insert(fields))


def make_tasks(
    db: Database[dict[str, Any]],
    project: Project,
    specs: Sequence[TaskSpec],
    *,
    created_by: User,
) -> list[Task]:
    """Many tasks in one `insert_many`, each in the shape `TaskRepository.insert` writes.

    Without a `created_at`, all share one timestamp (as a burst within one millisecond would):
    the `_id` tie-breaker then decides their order.
    """
    now = utcnow()
    docs = []
    for n, spec in enumerate(specs):
        created = spec.created_at or now
        docs.append(
            {
                "_id": ObjectId(),
                **_task_fields(project, created_by.id, spec, n),
                "version": 1,
                "createdAt": created,
                "updatedAt": created,
            }
        )
    if docs:
        TaskRepository(db, container.server()).collection.insert_many(docs, ordered=False)
    return [Task.from_document(doc) for doc in docs]


def shuffled_task_specs(
    count: int,
    *,
    seed: int,
    first_due: datetime,
    **per_task: Callable[[int], Any],
) -> list[TaskSpec]:
    """`count` task specs for ordering tests: creation times a day ago, shuffled against the
    insertion order (so against `_id`), three per millisecond; one in six without a due date,
    the others on 40 days from `first_due`. `per_task` sets other TaskSpec fields by index."""
    rng = random.Random(seed)
    order = list(range(count))
    rng.shuffle(order)
    base = utcnow() - timedelta(days=1)
    specs = []
    for n in range(count):
        fields: dict[str, Any] = {
            "description": f"task {n:04d}",
            "created_at": base + timedelta(milliseconds=order[n] // 3),
            "due_date": None if n % 6 == 0 else first_due + timedelta(days=rng.randrange(40)),
        }
        fields |= {name: make(n) for name, make in per_task.items()}
        specs.append(TaskSpec(**fields))
    return specs


# --- audit events, as they travel on the audit queue (SPEC §7) -------------------------------
# (imported here, not at the top, to keep this file append-only for concurrent edits)

import uuid  # noqa: E402


def audit_event(
    *,
    action: str = "UPDATE",
    entity: str = "TASK",
    entity_id: str | None = None,
    actor: User | None = None,
    detail: str | None = None,
    changes: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One SQS message body: an audit event in its camelCase wire form, by `actor` (None for a
    failed login) at `occurred_at` (default now, UTC)."""
    n = next(_counter)
    when = occurred_at or utcnow()
    return {
        "eventId": str(uuid.uuid4()),
        "actorId": actor.id if actor else None,
        "actorRole": actor.role.value if actor else None,
        "action": action,
        "entity": entity,
        "entityId": entity_id or str(ObjectId()),
        "detail": detail or f"{action}_{entity}",
        "changes": {} if changes is None else changes,
        "requestId": request_id or f"req-{n}",
        "occurredAt": when.isoformat().replace("+00:00", "Z"),
    }


def settle_audit_sends() -> None:
    """Wait for this process's audit sender: on FerretDB its outbox clear rewrites the whole
    document, so a test that writes a document directly waits for it first."""
    container.audit_trail().flush()
