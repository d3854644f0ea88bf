"""Queries on `webhooks` (subscriptions) and `webhook_deliveries` (one per event and
subscription)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from todo_common.documents import Doc
from todo_common.errors import Conflict, NotFound
from todo_common.instants import utcnow
from todo_common.repositories.base import MongoRepository, object_id
from todo_common.repositories.pagination import Slice, SortSpec
from todo_common.repositories.shapes import list_indexes


def _oid(id_: str) -> ObjectId:
    oid = object_id(id_)
    if oid is None:
        raise NotFound("Not found")
    return oid


OLDEST_FIRST = SortSpec("createdAt", descending=False)
NEWEST_FIRST = SortSpec("createdAt", descending=True)


class WebhookRepository(MongoRepository):
    collection_name = "webhooks"
    entity_name = "Webhook"
    sort_fields: ClassVar[dict[str, str]] = {"createdAt": "createdAt"}  # oldest first
    indexes: ClassVar[list[IndexModel]] = [
        # GET /webhooks: an ADMIN's (all) and everyone else's (their own), oldest first.
        *list_indexes(
            "webhooks", (("isActive", "ownerId"), ("isActive",)), ["createdAt"], ("ownerId",)
        ),
        # The audit consumer's question for every event: who subscribed to this type?
        IndexModel(
            [("events", ASCENDING), ("isActive", ASCENDING), ("enabled", ASCENDING)],
            name="webhooks_events_isActive_enabled",
        ),
    ]

    @staticmethod
    def list_query(*, is_active: bool, owner_id: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"isActive": is_active}
        if owner_id is not None:
            query["ownerId"] = owner_id
        return query

    def subscribed_to(self, event_type: str) -> list[Doc]:
        """The active, enabled subscriptions that name `event_type`."""
        return list(self.collection.find({"events": event_type, "isActive": True, "enabled": True}))

    def mark_failing(self, webhook_id: str, since: datetime) -> datetime:
        """Note the first failure since the last success (kept if already noted); returns it."""
        oid = _oid(webhook_id)
        with self._server.write_guard(self.collection_name, oid):
            self.collection.update_one(
                {"_id": oid, "failingSince": None}, {"$set": {"failingSince": since}}
            )
            doc = self.collection.find_one({"_id": oid}, {"failingSince": 1}) or {}
        noted = doc.get("failingSince")
        return noted if isinstance(noted, datetime) else since

    def clear_failing(self, webhook_id: str) -> None:
        oid = _oid(webhook_id)
        with self._server.write_guard(self.collection_name, oid):
            self.collection.update_one(
                {"_id": oid, "failingSince": {"$ne": None}}, {"$set": {"failingSince": None}}
            )

    def disable(self, webhook_id: str, reason: str) -> None:
        """Stop deliveries, saying why (a new version: the owner sees it changed)."""
        oid = _oid(webhook_id)
        with self._server.write_guard(self.collection_name, oid):
            self.collection.update_one(
                {"_id": oid, "enabled": True},
                {
                    "$set": {"enabled": False, "disabledReason": reason, "updatedAt": utcnow()},
                    "$inc": {"version": 1},
                },
            )


class DeliveryRepository(MongoRepository):
    collection_name = "webhook_deliveries"
    entity_name = "Delivery"
    indexes: ClassVar[list[IndexModel]] = [
        # One delivery per (subscription, event): a redelivered audit message adds nothing.
        IndexModel(
            [("webhookId", ASCENDING), ("eventId", ASCENDING)],
            name="webhook_deliveries_webhookId_eventId_unique",
            unique=True,
        ),
        # GET /webhooks/{id}/deliveries, newest first.
        IndexModel(
            [("webhookId", ASCENDING), ("createdAt", DESCENDING), ("_id", DESCENDING)],
            name="webhook_deliveries_webhookId_createdAt__id",
        ),
        # The sweep: pending deliveries whose attempt is overdue.
        IndexModel(
            [("status", ASCENDING), ("nextAttemptAt", ASCENDING)],
            name="webhook_deliveries_status_nextAttemptAt",
        ),
    ]

    def add(self, fields: Doc) -> tuple[Doc, bool]:
        """Insert a delivery; when one for the same (webhookId, eventId) exists, that one and
        False."""
        try:
            return self.insert(fields), True
        except Conflict:  # `insert`'s word for a unique-index clash
            pass
        existing = self.collection.find_one(
            {"webhookId": fields["webhookId"], "eventId": fields["eventId"]}
        )
        if existing is None:  # deleted in between: nothing to deliver
            raise LookupError("delivery vanished")
        return existing, False

    def mark_queued(self, delivery_id: str) -> None:
        self._set(delivery_id, {"queued": True})

    def of_webhook(self, webhook_id: str, limit: int, cursor: str | None) -> Slice[Doc]:
        return self.page({"webhookId": webhook_id}, NEWEST_FIRST, limit, cursor)

    def record_attempt(self, delivery_id: str, attempt_before: int, fields: Doc) -> bool:
        """Record the outcome of attempt `attempt_before + 1`, unless another worker recorded it
        already (a duplicated message); False then."""
        oid = _oid(delivery_id)
        with self._server.write_guard(self.collection_name, oid):
            result = self.collection.update_one(
                {"_id": oid, "attempt": attempt_before, "status": "PENDING"},
                {"$set": {**fields, "updatedAt": utcnow()}, "$inc": {"version": 1}},
            )
        return result.modified_count == 1

    def redeliver(self, delivery_id: str, at: datetime) -> Doc | None:
        """Make the delivery due again at `at`, whatever became of it."""
        oid = _oid(delivery_id)
        with self._server.write_guard(self.collection_name, oid):
            return self.collection.find_one_and_update(
                {"_id": oid},
                {
                    "$set": {"status": "PENDING", "nextAttemptAt": at, "updatedAt": utcnow()},
                    "$inc": {"version": 1},
                },
                return_document=ReturnDocument.AFTER,
            )

    def overdue(self, before: datetime, limit: int) -> list[Doc]:
        """Pending deliveries whose attempt was due before `before` (their message was lost)."""
        query = {"status": "PENDING", "nextAttemptAt": {"$lt": before}}
        return list(self.collection.find(query).limit(limit))

    def _set(self, delivery_id: str, fields: Doc) -> None:
        oid = _oid(delivery_id)
        with self._server.write_guard(self.collection_name, oid):
            self.collection.update_one({"_id": oid}, {"$set": fields})
