"""What the reads of an owned, soft-deleted record share (projects, webhooks)."""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

from todo_common.documents import Doc
from todo_common.errors import NotFound
from todo_common.principal import Principal
from todo_common.rbac import Resource, owner_relation, sees_inactive


class Owned(Protocol):
    @property
    def owner_id(self) -> str: ...
    @property
    def is_active(self) -> bool: ...
    @classmethod
    def from_document(cls, doc: Doc) -> Self: ...


R = TypeVar("R", bound=Owned)


def visible_owned(
    doc: Doc | None, model: type[R], principal: Principal, resource: Resource, missing: str
) -> R:
    """The record `doc` holds; NotFound (`missing`) when there is none, or it is inactive and
    the caller may not see it (neither an ADMIN nor, where the policy says so, its owner)."""
    if doc is None:
        raise NotFound(missing)
    record = model.from_document(doc)
    relations = owner_relation(principal, record.owner_id)
    if not record.is_active and not sees_inactive(principal, resource, relations):
        raise NotFound(missing)
    return record
