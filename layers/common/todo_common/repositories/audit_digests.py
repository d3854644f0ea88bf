"""Queries on `audit_digests`: one signed digest per closed period of the audit trail.

Like audit records, digests are written once and never changed: no update, no delete here.
`_id` is the period's start (canonical timestamp) and `periodStart` has a unique index, so two
digest functions running at once cannot both store a digest of the same period.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from todo_common.documents import Doc
from todo_common.instants import instant_text


class AuditDigestRepository:
    collection_name = "audit_digests"
    indexes: ClassVar[list[IndexModel]] = [
        IndexModel(
            [("periodStart", ASCENDING)], name="audit_digests_periodStart_unique", unique=True
        )
    ]

    def __init__(self, db: Database[Doc]) -> None:
        self.collection = db[self.collection_name]

    def add(self, digest: dict[str, Any]) -> bool:
        """Store a digest; False when its period already has one (another run stored it)."""
        try:
            self.collection.insert_one({"_id": instant_text(digest["periodStart"]), **digest})
        except DuplicateKeyError:
            return False
        return True

    def latest(self) -> Doc | None:
        return self.collection.find_one({}, sort=[("periodStart", DESCENDING)])

    def latest_before(self, when: datetime) -> Doc | None:
        return self.collection.find_one(
            {"periodStart": {"$lt": when}}, sort=[("periodStart", DESCENDING)]
        )

    def starting_between(
        self, start: datetime | None, end: datetime | None, limit: int = 0
    ) -> list[Doc]:
        """Digests whose period starts in [start, end), oldest first."""
        bounds: dict[str, Any] = {}
        if start is not None:
            bounds["$gte"] = start
        if end is not None:
            bounds["$lt"] = end
        query = {"periodStart": bounds} if bounds else {}
        return list(self.collection.find(query).sort("periodStart", ASCENDING).limit(limit))

    def newest_first(self, limit: int, before: datetime | None) -> list[Doc]:
        """One page of digests, newest period first, strictly before `before` when given."""
        query = {"periodStart": {"$lt": before}} if before is not None else {}
        return list(self.collection.find(query).sort("periodStart", DESCENDING).limit(limit))
