"""What every audited write shares: If-Match checks, retries of lost races, and the audit event
stored with the write and published after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self, TypeVar

from todo_common.audit.events import AuditAction, AuditEntity, created, new_event, updated
from todo_common.audit.trail import AuditTrail
from todo_common.documents import Doc, StoredModel
from todo_common.errors import Conflict, PreconditionFailed
from todo_common.principal import Principal
from todo_common.repositories.base import MongoRepository

T = TypeVar("T")
ATTEMPTS = 3


class Revisable(Protocol):
    """A stored record that is soft-deleted and changed under If-Match (projects, webhooks)."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def is_active(self) -> bool: ...
    @classmethod
    def from_document(cls, doc: Doc) -> Self: ...
    def audit_view(self) -> Doc: ...


R = TypeVar("R", bound=Revisable)


def check_if_match(version: int, if_match: int | None) -> None:
    if if_match is not None and version != if_match:
        raise PreconditionFailed()


def retrying(if_match: int | None, attempt: Callable[[], T]) -> T:
    """Run a read-check-write. With If-Match a stale version is 412 at once; without, a write
    that lost a race to another writer reads again and retries (a client that sent no
    precondition is never told its precondition failed)."""
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except PreconditionFailed:
            if if_match is not None or n == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class AuditedWrites:
    """Inserts and updates of one collection, each carrying exactly one audit event."""

    def __init__(
        self,
        repository: MongoRepository,
        audit: AuditTrail,
        entity: AuditEntity,
        model: type[StoredModel],
    ) -> None:
        self._repo = repository
        self._audit = audit
        self._entity = entity
        self._audited = model.audited_fields()

    def create(self, principal: Principal, fields: Doc, detail: str) -> Doc:
        record_id = self._repo.new_id()
        event = new_event(
            actor=principal,
            action=AuditAction.CREATE,
            entity=self._entity,
            entity_id=record_id,
            detail=detail,
            changes=created(fields, self._audited),
        )
        doc = self._repo.insert(fields, id_=record_id, event=event.wire())
        self._audit.written(event, self._repo, record_id)
        return doc

    def revise(
        self,
        principal: Principal,
        if_match: int | None,
        read: Callable[[], R],
        changes: Callable[[R], Doc],
    ) -> R:
        """The update of a record that must be active: `read` it (If-Match checked there), write
        `changes(current)` with one audit event (detail `UPDATE_<ENTITY>`; nothing when nothing
        changes), and read again after a lost race; a deleted record is a Conflict."""
        entity = self._entity.value
        detail = f"UPDATE_{entity}"
        deleted = f"The {entity.lower()} is deleted; restore it before changing it"

        def attempt() -> R:
            current = read()
            if not current.is_active:
                raise Conflict(deleted)
            fields = changes(current)
            if not fields:
                return current
            doc = self.update(
                principal,
                AuditAction.UPDATE,
                current.id,
                current,
                fields,
                version=current.version,
                detail=detail,
            )
            return type(current).from_document(doc)

        return retrying(if_match, attempt)

    def update(
        self,
        principal: Principal,
        action: AuditAction,
        record_id: str,
        before: StoredModel | Revisable,
        fields: Doc,
        *,
        version: int,
        detail: str,
    ) -> Doc:
        """Write `fields` (stored names) if the record `before` is still at `version`."""
        event = new_event(
            actor=principal,
            action=action,
            entity=self._entity,
            entity_id=record_id,
            detail=detail,
            changes=updated(before.audit_view(), fields),
        )
        doc = self._repo.update(record_id, fields, expected_version=version, event=event.wire())
        self._audit.written(event, self._repo, record_id)
        return doc
