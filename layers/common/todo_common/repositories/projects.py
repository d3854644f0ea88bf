"""Queries on the `projects` collection."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pymongo import IndexModel

from todo_common.documents import Doc
from todo_common.repositories.base import MongoRepository, object_id
from todo_common.repositories.shapes import list_indexes

EQUALITY_FILTERS = ("isActive", "ownerId")  # `isActive` is always part of a list query
LIST_LEADS = (("isActive", "ownerId"), ("isActive",))
SORT_FIELDS: dict[str, str] = {
    "createdAt": "createdAt",
    "updatedAt": "updatedAt",
    "name": "nameKey",
}


class ProjectRepository(MongoRepository):
    collection_name = "projects"
    entity_name = "Project"
    sort_fields: ClassVar[dict[str, str]] = SORT_FIELDS
    # One per (lead, sort) (shapes.py); `q` is a range on nameKey after the sort.
    indexes: ClassVar[list[IndexModel]] = list_indexes(
        "projects", LIST_LEADS, SORT_FIELDS.values(), EQUALITY_FILTERS, "nameKey"
    )

    @staticmethod
    def list_query(*, is_active: bool, owner_id: str | None, q: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"isActive": is_active}
        if owner_id is not None:
            query["ownerId"] = owner_id
        if q:
            query["nameKey"] = {"$regex": "^" + re.escape(q.lower())}
        return query

    def clear_cascade(self, project_id: str) -> None:
        """Forget which delete took the tasks down (bookkeeping: not a change, no new version)."""
        oid = object_id(project_id)
        if oid is not None:
            # Guarded like every write of one record: on FerretDB an outbox clear running at the
            # same time rewrites the whole document and would bring the tag back.
            with self._server.write_guard(self.collection_name, oid):
                self.collection.update_one({"_id": oid}, {"$set": {"cascadeId": None}})


def project_search_keys(name: str) -> Doc:
    return {"nameKey": name.lower()}
