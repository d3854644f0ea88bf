"""Reading the audit trail (ADMIN only). Nothing here, or anywhere, changes or deletes a record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from todo_common.errors import FieldError, InvalidInput, NotFound
from todo_common.models import Principal, Slice
from todo_common.rbac import Action, authorize
from todo_common.repositories.audits import AuditRepository


class AuditService:
    def __init__(self, audits: AuditRepository) -> None:
        self._audits = audits

    def list(
        self,
        principal: Principal,
        *,
        actor_id: str | None,
        action: str | None,
        entity: str | None,
        entity_id: str | None,
        from_: datetime | None,
        to: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> Slice[dict[str, Any]]:
        """Audit records, newest first."""
        authorize(Action.AUDITS_READ, principal)
        check_range(from_, to)
        query = self._audits.list_query(
            actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, from_=from_, to=to
        )
        page = self._audits.search(query, limit, cursor)
        return Slice(page.items, page.next_cursor)

    def get(self, principal: Principal, audit_id: str) -> dict[str, Any]:
        authorize(Action.AUDITS_READ, principal)
        doc = self._audits.get(audit_id)
        if doc is None:
            raise NotFound("Audit record not found")
        return doc


def check_range(from_: datetime | None, to: datetime | None) -> None:
    if from_ is not None and to is not None and from_ >= to:
        raise InvalidInput(
            "`from` must be before `to`", [FieldError(("query", "from"), "not before `to`")]
        )
