"""Queries on `audits` (append-only records) and `audit_outbox` (events waiting for SQS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from todo_common.database_server import DatabaseServer
from todo_common.documents import Doc
from todo_common.instants import utcnow
from todo_common.repositories.base import MongoRepository
from todo_common.repositories.pagination import SortSpec
from todo_common.repositories.shapes import list_indexes

EQUALITY_FILTERS = ("actorId", "action", "entity", "entityId")
# No filter, or any one of them, leads; the others are checked on the index keys (shapes.py).
LIST_LEADS = ((), *((field,) for field in EQUALITY_FILTERS))
NEWEST_FIRST = SortSpec("createdAt", descending=True)


def trail_time(record: Doc) -> datetime | None:
    """When a record was stored (`recordedAt`, which the consumer stamps)."""
    value = record.get("recordedAt")
    return value if isinstance(value, datetime) else None


class AuditRepository(MongoRepository):
    """Audit records are written once and never changed: no update, no delete here."""

    collection_name = "audits"
    entity_name = "Audit record"
    sort_fields: ClassVar[dict[str, str]] = {"createdAt": "createdAt"}  # newest first
    indexes: ClassVar[list[IndexModel]] = [
        IndexModel([("eventId", ASCENDING)], name="audits_eventId_unique", unique=True),
        # newest first; `from`/`to` range over the sort field itself
        *list_indexes(
            "audits", LIST_LEADS, [NEWEST_FIRST.field], EQUALITY_FILTERS, descending=True
        ),
        # The digest function and the verifier read the trail period by period.
        IndexModel([("recordedAt", ASCENDING)], name="audits_recordedAt"),
    ]

    def __init__(
        self, db: Database[Doc], server: DatabaseServer, clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__(db, server)
        self._clock = clock  # tests place records in chosen digest periods

    def record(self, event: dict[str, Any]) -> bool:
        """Store an event (wire format), stamped with the time it is stored (`recordedAt`, server
        time, in milliseconds); False when its `eventId` is already recorded."""
        occurred = datetime.fromisoformat(event["occurredAt"])
        recorded = self._clock()
        doc = {
            "_id": ObjectId(),
            **{k: v for k, v in event.items() if k != "occurredAt"},
            "createdAt": occurred,
            "updatedAt": recorded,
            "recordedAt": recorded,
            "day": occurred.date().isoformat(),  # for per-day reports without date operators
        }
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    @staticmethod
    def list_query(
        *,
        actor_id: str | None = None,
        action: str | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        from_: datetime | None = None,
        to: datetime | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for field, value in (
            ("actorId", actor_id),
            ("action", action),
            ("entity", entity),
            ("entityId", entity_id),
        ):
            if value is not None:
                query[field] = value
        bounds: dict[str, Any] = {}
        if from_ is not None:
            bounds["$gte"] = from_
        if to is not None:
            bounds["$lt"] = to
        if bounds:
            query["createdAt"] = bounds
        return query

    @staticmethod
    def trail_query(start: datetime, end: datetime) -> dict[str, Any]:
        """Records stored in [start, end) (see `trail_time`)."""
        return {"recordedAt": {"$gte": start, "$lt": end}}

    def stored_between(self, start: datetime, end: datetime) -> list[Doc]:
        """Every record stored in [start, end), whole, in no particular order."""
        return list(self.collection.find(self.trail_query(start, end)))

    def count_stored_between(self, start: datetime, end: datetime) -> int:
        return self.collection.count_documents(self.trail_query(start, end))

    def first_trail_time(self) -> datetime | None:
        """When the earliest record was stored, or None for an empty trail."""
        first = self.collection.find_one(
            {"recordedAt": {"$ne": None}}, {"recordedAt": 1}, sort=[("recordedAt", ASCENDING)]
        )
        return trail_time(first) if first is not None else None

    def without_trail_time(self, limit: int) -> list[Doc]:
        """Records without `recordedAt`: no consumer wrote these."""
        return list(self.collection.find({"recordedAt": None}).limit(limit))

    def activity(self, from_: datetime, to: datetime) -> list[dict[str, Any]]:
        """Counts per day, action and entity in [from_, to), in that order."""
        groups = list(
            self.collection.aggregate(
                [
                    {"$match": {"createdAt": {"$gte": from_, "$lt": to}}},
                    {
                        "$group": {
                            "_id": {"day": "$day", "action": "$action", "entity": "$entity"},
                            "count": {"$sum": 1},
                        }
                    },
                ]
            )
        )
        return sorted(
            groups, key=lambda g: (g["_id"]["day"], g["_id"]["action"], g["_id"]["entity"])
        )


class AuditOutboxRepository:
    """Events that belong to no document (logins, logouts) and could not be sent yet."""

    collection_name = "audit_outbox"
    indexes: ClassVar[list[IndexModel]] = []

    def __init__(self, db: Any) -> None:
        self.collection = db[self.collection_name]

    def keep(self, event: dict[str, Any]) -> None:
        self.collection.insert_one({"_id": event["eventId"], "event": event})

    def pending(self, limit: int) -> list[Doc]:
        return list(self.collection.find({}).limit(limit))

    def remove(self, event_id: str) -> None:
        self.collection.delete_one({"_id": event_id})
