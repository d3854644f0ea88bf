"""Project rules: ownership, ADMIN-only `ownerId`, visibility, and the delete/restore cascade."""

from __future__ import annotations

import uuid
from dataclasses import InitVar, dataclass, field
from functools import cached_property
from typing import Any

from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.audit.trail import AuditTrail
from todo_common.errors import (
    FieldError,
    Forbidden,
    InvalidInput,
)
from todo_common.principal import Principal, Role
from todo_common.rbac import (
    Action,
    Grant,
    Resource,
    authorize,
    authorize_fields,
    owner_relation,
    sees_inactive,
)
from todo_common.records import Project, User
from todo_common.repositories.pagination import Slice, SortSpec
from todo_common.repositories.projects import ProjectRepository, project_search_keys
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.schemas.projects import ProjectCreate, ProjectPatch
from todo_common.services.reads import visible_owned
from todo_common.services.sync import ChangeFeed, DeltaSync
from todo_common.services.writes import AuditedWrites, check_if_match, retrying

SORTABLE = frozenset({"createdAt", "updatedAt", "name"})
OWNER_ROLES = (Role.MANAGER, Role.ADMIN)


@dataclass(eq=False)
class ProjectService:
    _projects: ProjectRepository
    _tasks: TaskRepository
    _users: UserRepository
    audit: InitVar[AuditTrail]
    sync: DeltaSync = field(default_factory=DeltaSync)

    def __post_init__(self, audit: AuditTrail) -> None:
        self._writes = AuditedWrites(self._projects, audit, AuditEntity.PROJECT, Project)

    def create(self, principal: Principal, data: ProjectCreate) -> Project:
        """A MANAGER's project is their own; an ADMIN may name any active MANAGER or ADMIN."""
        grant = authorize(Action.PROJECTS_CREATE, principal)
        owner_id = data.owner_id or principal.user_id
        if grant is Grant.SELF_OWNED and owner_id != principal.user_id:
            raise Forbidden("Only an ADMIN may create a project owned by someone else")
        self._check_owner(owner_id)
        doc = self._writes.create(
            principal,
            Project.document(
                name=data.name,
                description=data.description,
                owner_id=owner_id,
                is_active=True,
                cascade_id=None,
            )
            | project_search_keys(data.name),
            detail="CREATE_PROJECT",
        )
        return Project.from_document(doc)

    def get(self, principal: Principal, project_id: str) -> Project:
        """Every role reads projects; an inactive one only its owner or an ADMIN (else 404)."""
        authorize(Action.PROJECTS_READ, principal)
        return self.visible(principal, project_id)

    def list(
        self,
        principal: Principal,
        *,
        owner_id: str | None,
        q: str | None,
        is_active: bool | None,
        sort: str,
        limit: int,
        cursor: str | None,
    ) -> Slice[Project]:
        authorize(Action.PROJECTS_READ, principal)
        if is_active is False and not sees_inactive(
            principal, Resource.PROJECT, owner_relation(principal, owner_id)
        ):
            raise Forbidden(
                "Only an ADMIN, or an owner listing their own, may list inactive "
                "projects (add ownerId=<your id>)"
            )
        query = self._projects.list_query(is_active=is_active is not False, owner_id=owner_id, q=q)
        page = self._projects.search(
            query, SortSpec.parse(sort, SORTABLE, "createdAt"), limit, cursor
        )
        return Slice([Project.from_document(d) for d in page.items], page.next_cursor)

    @cached_property
    def changes(self) -> ChangeFeed[Project]:
        """`GET ?updatedSince=`: the sync of the projects (services/sync.py)."""
        return ChangeFeed(self.sync, Action.PROJECTS_READ, self._projects, Project)

    def update(
        self, principal: Principal, project_id: str, patch: ProjectPatch, if_match: int | None
    ) -> Project:
        return self._writes.revise(
            principal,
            if_match,
            lambda: self._writable(principal, project_id, if_match),
            lambda current: self._changes(principal, current, patch.changes()),
        )

    def delete(self, principal: Principal, project_id: str, if_match: int | None) -> None:
        """Soft-delete the project and, tagged with this delete, its active tasks.

        Deleting an inactive project again re-runs the task cascade, so a delete interrupted
        between the two writes is completed by a retry.
        """

        def attempt() -> str | None:
            current = self._writable(principal, project_id, if_match)
            if not current.is_active:
                return current.cascade_id
            # A tag left by an interrupted restore is reused, so its tasks stay restorable.
            cascade_id = current.cascade_id or uuid.uuid4().hex
            self._writes.update(
                principal,
                AuditAction.DELETE,
                project_id,
                current,
                Project.document(is_active=False, cascade_id=cascade_id),
                version=current.version,
                detail="DELETE_PROJECT",
            )
            return cascade_id

        cascade_id = retrying(if_match, attempt)
        if cascade_id:
            self._tasks.deactivate_for_project(project_id, cascade_id)

    def restore(self, principal: Principal, project_id: str, if_match: int | None) -> Project:
        """Reactivate the project and exactly the tasks its delete took down."""

        def attempt() -> tuple[Project, str | None]:
            current = self._writable(principal, project_id, if_match)
            if current.is_active:
                return current, current.cascade_id
            doc = self._writes.update(
                principal,
                AuditAction.RESTORE,
                project_id,
                current,
                Project.document(is_active=True),
                version=current.version,
                detail="RESTORE_PROJECT",
            )
            return Project.from_document(doc), current.cascade_id

        restored, cascade_id = retrying(if_match, attempt)
        if cascade_id:
            # The tag stays until the tasks are back, so an interrupted restore is finished
            # by a retry.
            self._tasks.restore_cascade(cascade_id)
            self._projects.clear_cascade(project_id)
        return restored

    # -- rules -------------------------------------------------------------------------------

    def visible(self, principal: Principal, project_id: str) -> Project:
        """The project; NotFound when missing, or inactive and the caller not ADMIN or owner."""
        doc = self._projects.get(project_id)
        return visible_owned(doc, Project, principal, Resource.PROJECT, "Project not found")

    def _writable(self, principal: Principal, project_id: str, if_match: int | None) -> Project:
        project = self.visible(principal, project_id)
        authorize(Action.PROJECTS_WRITE, principal, owner_relation(principal, project.owner_id))
        check_if_match(project.version, if_match)
        return project

    def _changes(
        self, principal: Principal, current: Project, sent: dict[str, Any]
    ) -> dict[str, Any]:
        update = {k: v for k, v in sent.items() if v != getattr(current, k)}
        if "owner_id" in update:
            authorize_fields(principal, Resource.PROJECT, Grant.YES, {"ownerId"})
            self._check_owner(update["owner_id"])
        search = project_search_keys(update["name"]) if "name" in update else {}
        return Project.document(**update) | search

    def _check_owner(self, owner_id: str) -> None:
        doc = self._users.get(owner_id)
        user = User.from_document(doc) if doc else None
        if user is None or not user.is_active or user.role not in OWNER_ROLES:
            raise InvalidInput(
                "ownerId must be an active MANAGER or ADMIN",
                [FieldError(("body", "ownerId"), "not an active MANAGER or ADMIN")],
            )
