"""Queries on `audit_digests`: the database's copy of each period's signed digest.

A cache: the digests' truth is the write-once store (audit/store.py), and the verifier reports
a copy here that differs from it or is missing. Like audit records, the copies are written once
and never changed: no update, no delete here. `periodStart` has a unique index, so a period has
one copy however many digest functions run at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import OperationFailure

from todo_common.documents import Doc
from todo_common.repositories.base import MongoRepository
from todo_common.repositories.pagination import Slice, SortSpec

NEWEST_FIRST = SortSpec("periodStart", descending=True)


class AuditDigestRepository(MongoRepository):
    collection_name = "audit_digests"
    entity_name = "Audit digest"
    indexes: ClassVar[list[IndexModel]] = [
        IndexModel(
            [("periodStart", ASCENDING)], name="audit_digests_periodStart_unique", unique=True
        ),
        # The pager's order: newest period first, `_id` as its tie-breaker.
        IndexModel([("periodStart", DESCENDING), ("_id", DESCENDING)], name="audit_digests_page"),
    ]

    def add(self, digest: dict[str, Any]) -> bool:
        """Store a copy; False when its period already has one."""
        try:
            self.collection.insert_one({**digest, "_id": ObjectId()})
        except OperationFailure as exc:
            if not self._server.is_unique_violation(exc):
                raise
            return False
        return True

    def latest(self) -> Doc | None:
        return self.collection.find_one({}, sort=[("periodStart", DESCENDING)])

    def starting_between(self, start: datetime | None, end: datetime | None) -> list[Doc]:
        """Copies whose period starts in [start, end), oldest first."""
        bounds: dict[str, Any] = {}
        if start is not None:
            bounds["$gte"] = start
        if end is not None:
            bounds["$lt"] = end
        query = {"periodStart": bounds} if bounds else {}
        return list(self.collection.find(query).sort("periodStart", ASCENDING))

    def newest_first(self, limit: int, cursor: str | None) -> Slice[Doc]:
        """One page of copies, newest period first (the shared keyset pager)."""
        return self.page({}, NEWEST_FIRST, limit, cursor)
