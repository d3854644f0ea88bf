"""Task rules: who may write which task, the assignee's status-only update, status transitions."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic.alias_generators import to_camel

from todo_common import metrics
from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.audit.trail import AuditTrail
from todo_common.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from todo_common.instants import utcnow
from todo_common.metrics import Metric
from todo_common.principal import Principal, Role
from todo_common.rbac import (
    Action,
    Resource,
    authorize,
    authorize_fields,
    owner_relation,
    sees_inactive,
    task_relations,
)
from todo_common.records import Project, Task, TaskStatus, User
from todo_common.repositories.pagination import Slice, SortSpec
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository, due_fields
from todo_common.repositories.users import UserRepository
from todo_common.schemas.tasks import TaskCreate, TaskPatch
from todo_common.services.sync import ChangeFeed, DeltaSync
from todo_common.services.writes import AuditedWrites, check_if_match, retrying

SORTABLE = frozenset({"createdAt", "updatedAt", "dueDate"})
ME = "me"


def next_status(
    requested: TaskStatus | None, assignee: str | None, current: TaskStatus | None
) -> TaskStatus:
    """The status a task ends up in (SPEC §3).

    An open task is ASSIGNED with an assignee and PENDING without; COMPLETED stays until a client
    reopens it. Asking for an open status that contradicts the assignee is a 422, not a guess.
    """
    if requested is TaskStatus.COMPLETED or (requested is None and current is TaskStatus.COMPLETED):
        return TaskStatus.COMPLETED
    derived = TaskStatus.ASSIGNED if assignee else TaskStatus.PENDING
    if requested is not None and requested is not derived:
        reason = (
            "an ASSIGNED task needs an assignee"
            if requested is TaskStatus.ASSIGNED
            else "a task with an assignee is ASSIGNED, not PENDING"
        )
        raise InvalidInput(
            f"status {requested.value} does not fit: {reason}",
            [FieldError(("body", "status"), reason)],
        )
    return derived


@dataclass(eq=False)
class TaskService:
    _tasks: TaskRepository
    _projects: ProjectRepository
    _users: UserRepository
    audit: InitVar[AuditTrail]
    sync: DeltaSync = field(default_factory=DeltaSync)

    def __post_init__(self, audit: AuditTrail) -> None:
        self._writes = AuditedWrites(self._tasks, audit, AuditEntity.TASK, Task)

    # -- reads -------------------------------------------------------------------------------

    def get(self, principal: Principal, task_id: str) -> Task:
        authorize(Action.TASKS_READ, principal)
        task = self._load(task_id)
        if not task.is_active:  # only an inactive task needs its project: who may see it
            self._project_seen_by(principal, task)
        return task

    def list(
        self,
        principal: Principal,
        *,
        project_id: str | None,
        assigned_to: str | None,
        status: TaskStatus | None,
        due_before: datetime | None,
        is_active: bool | None,
        sort: str,
        limit: int,
        cursor: str | None,
    ) -> Slice[Task]:
        """Every active task is readable by the team; inactive ones by ADMINs and project owners."""
        authorize(Action.TASKS_READ, principal)
        if is_active is False and principal.role is not Role.ADMIN:
            project = self._projects.get(project_id) if project_id else None
            relations = owner_relation(principal, project["ownerId"] if project else None)
            if not sees_inactive(principal, Resource.TASK, relations):
                raise Forbidden(
                    "Inactive tasks are listed only for ADMINs, or for the owner of "
                    "the project named by projectId"
                )
        query = self._tasks.list_query(
            is_active=is_active is not False,
            project_id=project_id,
            assigned_to=principal.user_id if assigned_to == ME else assigned_to,
            status=status,
            due_before=due_before,
        )
        page = self._tasks.search(query, SortSpec.parse(sort, SORTABLE, "createdAt"), limit, cursor)
        return Slice([Task.from_document(d) for d in page.items], page.next_cursor)

    @cached_property
    def changes(self) -> ChangeFeed[Task]:
        """`GET ?updatedSince=`: the sync of the tasks (services/sync.py)."""
        return ChangeFeed(self.sync, Action.TASKS_READ, self._tasks, Task)

    # -- writes ------------------------------------------------------------------------------

    def create(self, principal: Principal, data: TaskCreate) -> Task:
        project = self._active_project(data.project_id, "projectId")
        authorize(Action.TASKS_CREATE, principal, owner_relation(principal, project.owner_id))
        if data.assigned_to is not None:
            self._check_assignee(data.assigned_to)
        status = next_status(data.status, data.assigned_to, None)
        doc = self._writes.create(
            principal,
            Task.document(
                project_id=project.id,
                description=data.description,
                assigned_to=data.assigned_to,
                status=status,
                completed_at=utcnow() if status is TaskStatus.COMPLETED else None,
                created_by=principal.user_id,
                is_active=True,
            )
            | due_fields(data.due_date)
            | {"cascadeId": None},
            detail="CREATE_TASK",
        )
        metrics.count(Metric.TASK_CREATED)
        if status is TaskStatus.COMPLETED:
            metrics.count(Metric.TASK_COMPLETED)
        return Task.from_document(doc)

    def update(
        self,
        principal: Principal,
        task_id: str,
        patch: TaskPatch,
        if_match: int | None,
        *,
        replace: bool = False,
    ) -> Task:
        """PATCH changes the fields sent; PUT (`replace`) also clears `assignedTo`/`dueDate`."""

        def attempt() -> Task:
            task, project = self._visible(principal, task_id)
            relations = task_relations(principal, project.owner_id, task.assigned_to)
            grant = authorize(Action.TASKS_UPDATE, principal, relations)
            check_if_match(task.version, if_match)
            if not task.is_active:
                raise Conflict("The task is deleted; restore it before changing it")
            sent = patch.changes()
            if replace:
                sent = {"assigned_to": None, "due_date": None, **sent}
            changed = {k: v for k, v in sent.items() if v != getattr(task, k)}
            authorize_fields(principal, Resource.TASK, grant, (to_camel(k) for k in changed))
            changes = self._changes(principal, task, changed, sent.get("status"))
            if not changes:
                return task
            detail = _update_detail(changes)
            stored = Task.from_document(
                self._writes.update(
                    principal,
                    AuditAction.UPDATE,
                    task_id,
                    task,
                    changes,
                    version=task.version,
                    detail=detail,
                )
            )
            if detail == "COMPLETE_TASK":
                metrics.count(Metric.TASK_COMPLETED)
            return stored

        return retrying(if_match, attempt)

    def delete(self, principal: Principal, task_id: str, if_match: int | None) -> None:
        def attempt() -> None:
            task = self._writable_for_delete(principal, task_id, if_match)
            if task.is_active:
                self._writes.update(
                    principal,
                    AuditAction.DELETE,
                    task_id,
                    task,
                    Task.document(is_active=False) | {"cascadeId": None},
                    version=task.version,
                    detail="DELETE_TASK",
                )

        retrying(if_match, attempt)

    def restore(self, principal: Principal, task_id: str, if_match: int | None) -> Task:
        def attempt() -> Task:
            task = self._writable_for_delete(principal, task_id, if_match)
            if task.is_active:
                return task
            project = self._projects.get(task.project_id)
            if project is None or not project["isActive"]:
                raise Conflict("The task's project is deleted; restore the project first")
            return Task.from_document(
                self._writes.update(
                    principal,
                    AuditAction.RESTORE,
                    task_id,
                    task,
                    Task.document(is_active=True) | {"cascadeId": None},
                    version=task.version,
                    detail="RESTORE_TASK",
                )
            )

        return retrying(if_match, attempt)

    # -- rules -------------------------------------------------------------------------------

    def _changes(
        self,
        principal: Principal,
        task: Task,
        changed: dict[str, Any],
        requested_status: TaskStatus | None,
    ) -> dict[str, Any]:
        """Stored fields for `changed` (client field names), with the status rules applied."""
        update = {k: v for k, v in changed.items() if k not in ("status", "due_date")}
        if "project_id" in update:
            target = self._active_project(update["project_id"], "projectId")
            # A task moves only between projects the caller may write.
            authorize(Action.TASKS_UPDATE, principal, owner_relation(principal, target.owner_id))
        if update.get("assigned_to") is not None:
            self._check_assignee(update["assigned_to"])
        assignee = changed.get("assigned_to", task.assigned_to)
        status = next_status(requested_status, assignee, task.status)
        if (
            status is TaskStatus.ASSIGNED
            and task.status is TaskStatus.COMPLETED
            and ("assigned_to" not in changed)
        ):
            # Reopening keeps the assignee, who must still be active (a deleted user's tasks
            # were completed or unassigned: none may become theirs again).
            self._check_assignee(str(assignee))
        if status is not task.status:
            update["status"] = status
            if status is TaskStatus.COMPLETED:
                update["completed_at"] = utcnow()
            elif task.status is TaskStatus.COMPLETED:
                update["completed_at"] = None  # reopened
        due = due_fields(changed["due_date"]) if "due_date" in changed else {}
        return Task.document(**update) | due

    def _visible(self, principal: Principal, task_id: str) -> tuple[Task, Project]:
        """The task and its project; NotFound when missing, or inactive and the caller is neither
        ADMIN nor the project's owner."""
        task = self._load(task_id)
        return task, self._project_seen_by(principal, task)

    def _load(self, task_id: str) -> Task:
        doc = self._tasks.get(task_id)
        if doc is None:
            raise NotFound("Task not found")
        return Task.from_document(doc)

    def _project_seen_by(self, principal: Principal, task: Task) -> Project:
        project_doc = self._projects.get(task.project_id)
        if project_doc is None:
            raise NotFound("Task not found")
        project = Project.from_document(project_doc)
        relations = owner_relation(principal, project.owner_id)
        if not task.is_active and not sees_inactive(principal, Resource.TASK, relations):
            raise NotFound("Task not found")
        return project

    def _writable_for_delete(
        self, principal: Principal, task_id: str, if_match: int | None
    ) -> Task:
        task, project = self._visible(principal, task_id)
        authorize(Action.TASKS_DELETE, principal, owner_relation(principal, project.owner_id))
        check_if_match(task.version, if_match)
        return task

    def _active_project(self, project_id: str, field: str) -> Project:
        doc = self._projects.get(project_id)
        if doc is None or not doc["isActive"]:
            raise InvalidInput(
                f"{field} must be an active project",
                [FieldError(("body", field), "not an active project")],
            )
        return Project.from_document(doc)

    def _check_assignee(self, user_id: str) -> None:
        doc = self._users.get(user_id)
        if doc is None or not User.from_document(doc).is_active:
            raise InvalidInput(
                "assignedTo must be an active user",
                [FieldError(("body", "assignedTo"), "not an active user")],
            )


def _update_detail(changes: dict[str, Any]) -> str:
    """The sub-activity of a task update, for the audit trail."""
    if changes.get("status") == TaskStatus.COMPLETED.value:
        return "COMPLETE_TASK"
    if "completedAt" in changes:
        return "REOPEN_TASK"
    if "assignedTo" in changes:
        return "ASSIGN_TASK" if changes["assignedTo"] else "UNASSIGN_TASK"
    if "projectId" in changes:
        return "MOVE_TASK"
    return "UPDATE_TASK"
