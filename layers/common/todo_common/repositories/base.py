"""A repository base: by-id reads, inserts, version-checked updates and keyset pages."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from bson import ObjectId
from pymongo import IndexModel, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from todo_common.database_server import DatabaseServer
from todo_common.documents import Doc
from todo_common.errors import Conflict, NotFound, PreconditionFailed
from todo_common.instants import utcnow
from todo_common.repositories.pagination import Slice, SortSpec, cursor_filter, encode_cursor

# The outbox: audit events written in the same document update as the change they describe,
# keyed by eventId, with a count the relay can find by index.
OUTBOX = "outbox"
OUTBOX_COUNT = "outboxCount"


def stamps(set_fields: Doc) -> Doc:
    """What a write stamps: `updatedAt`, and on a soft delete or restore `deletedAt` with the same
    instant, so that a sync can tell a record deleted within its window (`changes`)."""
    now = utcnow()
    active = set_fields.get("isActive")
    if active not in (True, False):
        return {"updatedAt": now}
    return {"updatedAt": now, "deletedAt": None if active else now}


def object_id(value: str) -> ObjectId | None:
    """The ObjectId in `value`, or None when it is malformed (which the API answers with 404)."""
    return ObjectId(value) if ObjectId.is_valid(value) and len(value) == 24 else None


class MongoRepository:
    collection_name: ClassVar[str]
    entity_name: ClassVar[str] = "Resource"
    # unique stored field -> the name a client knows it by, for the 409 message
    unique_fields: ClassVar[dict[str, str]] = {}
    # API sort name -> the stored field a list sorts by (a lower-cased copy for a name)
    sort_fields: ClassVar[dict[str, str]] = {}
    indexes: ClassVar[list[IndexModel]] = []
    # A sync's equality fields after `isActive`: each few-valued field of the unscoped list lead
    # with all its values (`$in`), so that lead's `updatedAt` index serves it by the ESR rule.
    change_filters: ClassVar[Doc] = {}

    def __init__(self, db: Database[Doc], server: DatabaseServer) -> None:
        self.collection: Collection[Doc] = db[self.collection_name]
        self._server = server  # MongoDB, or what the local FerretDB needs (database_server.py)

    def get(self, id_: str) -> Doc | None:
        oid = object_id(id_)
        return None if oid is None else self.collection.find_one({"_id": oid})

    @staticmethod
    def new_id() -> str:
        return str(ObjectId())

    def insert(self, fields: Doc, *, id_: str | None = None, event: Doc | None = None) -> Doc:
        """Insert a new record at version 1, with `event` in its outbox; a unique-index clash
        becomes `Conflict`."""
        now = utcnow()
        doc: Doc = {
            "_id": ObjectId(id_) if id_ else ObjectId(),
            **fields,
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        if event is not None:
            doc |= {OUTBOX: {event["eventId"]: event}, OUTBOX_COUNT: 1}
        try:
            self.collection.insert_one(doc)
        except OperationFailure as exc:
            if not self._server.is_unique_violation(exc):
                raise
            raise self._duplicate(exc, doc) from exc
        return doc

    def update(
        self,
        id_: str,
        set_fields: Doc,
        *,
        expected_version: int | None = None,
        event: Doc | None = None,
    ) -> Doc:
        """Apply `set_fields` atomically, bumping `version`.

        With `expected_version`, the write happens only if nobody changed the record since it was
        read: otherwise `PreconditionFailed` (412). A missing record is `NotFound`. `event`
        (an audit event) goes into the outbox in the same atomic update.
        """
        oid = object_id(id_)
        if oid is None:
            raise NotFound(f"{self.entity_name} not found")
        query: Doc = {"_id": oid}
        if expected_version is not None:
            query["version"] = expected_version
        changes: Doc = {"$set": {**set_fields, **stamps(set_fields)}, "$inc": {"version": 1}}
        if event is not None:
            changes["$set"][f"{OUTBOX}.{event['eventId']}"] = event
            changes["$inc"][OUTBOX_COUNT] = 1
        try:
            with self._server.write_guard(self.collection_name, oid):
                updated = self.collection.find_one_and_update(
                    query, changes, return_document=ReturnDocument.AFTER
                )
        except OperationFailure as exc:
            if not self._server.is_unique_violation(exc):
                raise
            raise self._duplicate(exc, set_fields, oid) from exc
        if updated is None:
            if self.collection.find_one({"_id": oid}, {"_id": 1}) is None:
                raise NotFound(f"{self.entity_name} not found")
            raise PreconditionFailed()
        return updated

    def clear_outbox(self, id_: str, event_id: str) -> None:
        """Drop a sent event from a record's outbox (once: a second clear changes nothing)."""
        field = f"{OUTBOX}.{event_id}"
        oid = ObjectId(id_)
        with self._server.write_guard(self.collection_name, oid):
            self.collection.update_one(
                {"_id": oid, field: {"$exists": True}},
                {"$unset": {field: ""}, "$inc": {OUTBOX_COUNT: -1}},
            )

    def pending_outbox(self, limit: int) -> list[Doc]:
        """Records whose outbox still holds events (for the relay)."""
        return list(self.collection.find({OUTBOX_COUNT: {"$gt": 0}}, {OUTBOX: 1}).limit(limit))

    def search(self, query: Doc, sort: SortSpec, limit: int, cursor: str | None) -> Slice[Doc]:
        """One page of the records matching `query`, in `sort` order (by its API sort name)."""
        return self.page(
            query, SortSpec(self.sort_fields[sort.field], sort.descending), limit, cursor
        )

    def changes(
        self, since: datetime, until: datetime, limit: int, cursor: str | None
    ) -> Slice[Doc]:
        """One page of the records written in [since, until), the oldest write first, deleted
        ones included: the page of a sync (`services/sync.py`)."""
        query = self.changes_query(since, until)
        return self.page(query, SortSpec("updatedAt"), limit, cursor, scope="changes")

    @classmethod
    def changes_query(cls, since: datetime, until: datetime) -> Doc:
        return {
            "isActive": {"$in": [True, False]},
            **cls.change_filters,
            "updatedAt": {"$gte": since, "$lt": until},
        }

    def page(
        self, filters: Doc, sort: SortSpec, limit: int, cursor: str | None, scope: str = ""
    ) -> Slice[Doc]:
        """A keyset page; `scope` keeps the cursors of one kind of list from another's."""
        scope = f"{self.collection_name}/{scope}" if scope else self.collection_name
        query = dict(filters)
        if cursor:
            after = cursor_filter(sort, cursor, scope)
            query = {"$and": [filters, after]} if filters else after
        rows = list(self.collection.find(query).sort(sort.mongo_sort()).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Slice(rows, encode_cursor(sort, rows[-1], scope) if more and rows else None)

    def _duplicate(
        self, exc: OperationFailure, fields: Doc, own_id: ObjectId | None = None
    ) -> Conflict:
        """A Conflict naming the field that clashed: from the error when the server says which
        index (MongoDB), else by looking for another record holding one of the values (FerretDB)."""
        message = str((exc.details or {}).get("errmsg", exc))
        candidates = {f: n for f, n in self.unique_fields.items() if f in fields}
        clashing = [n for f, n in candidates.items() if f in message]
        if not clashing:
            for stored, name in candidates.items():
                other = self.collection.find_one(
                    {stored: fields[stored], "_id": {"$ne": own_id}}, {"_id": 1}
                )
                if other is not None:
                    clashing.append(name)
        if clashing:
            return Conflict(
                f"A {self.entity_name.lower()} with this {' and '.join(clashing)} already exists"
            )
        return Conflict(f"{self.entity_name} already exists")
