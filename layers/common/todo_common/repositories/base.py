"""A repository base: by-id reads, inserts, version-checked updates and keyset pages."""

from __future__ import annotations

from typing import Any, ClassVar

from bson import ObjectId
from pymongo import IndexModel, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

from todo_common.errors import Conflict, NotFound, PreconditionFailed
from todo_common.models import utcnow
from todo_common.repositories.pagination import Page, SortSpec, cursor_filter, encode_cursor

Doc = dict[str, Any]


def object_id(value: str) -> ObjectId | None:
    """The ObjectId in `value`, or None when it is malformed (which the API answers with 404)."""
    return ObjectId(value) if ObjectId.is_valid(value) and len(value) == 24 else None


class MongoRepository:
    collection_name: ClassVar[str]
    entity_name: ClassVar[str] = "Resource"
    # unique stored field -> the name a client knows it by, for the 409 message
    unique_fields: ClassVar[dict[str, str]] = {}
    indexes: ClassVar[list[IndexModel]] = []

    def __init__(self, db: Database[Doc]) -> None:
        self.collection: Collection[Doc] = db[self.collection_name]

    def get(self, id_: str) -> Doc | None:
        oid = object_id(id_)
        return None if oid is None else self.collection.find_one({"_id": oid})

    def insert(self, fields: Doc) -> Doc:
        """Insert a new record at version 1; a unique-index clash becomes `Conflict`."""
        now = utcnow()
        doc: Doc = {"_id": ObjectId(), **fields, "version": 1, "createdAt": now, "updatedAt": now}
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError as exc:
            raise self._duplicate(exc, doc) from exc
        return doc

    def update(
        self,
        id_: str,
        set_fields: Doc,
        *,
        expected_version: int | None = None,
        extra_filter: Doc | None = None,
    ) -> Doc:
        """Apply `set_fields` atomically, bumping `version`.

        With `expected_version`, the write happens only if nobody changed the record since it was
        read: otherwise `PreconditionFailed` (412). A missing record is `NotFound`.
        """
        oid = object_id(id_)
        if oid is None:
            raise NotFound(f"{self.entity_name} not found")
        query: Doc = {"_id": oid, **(extra_filter or {})}
        if expected_version is not None:
            query["version"] = expected_version
        try:
            updated = self.collection.find_one_and_update(
                query,
                {"$set": {**set_fields, "updatedAt": utcnow()}, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError as exc:
            raise self._duplicate(exc, set_fields, oid) from exc
        except OperationFailure as exc:
            # FerretDB reports a unique-index clash on update as a generic failure (code 1,
            # "UNIQUE constraint failed: index ..."); MongoDB raises DuplicateKeyError above.
            if "UNIQUE constraint failed" not in str(exc):
                raise
            raise self._duplicate(exc, set_fields, oid) from exc
        if updated is None:
            if self.collection.find_one({"_id": oid}, {"_id": 1}) is None:
                raise NotFound(f"{self.entity_name} not found")
            raise PreconditionFailed()
        return updated

    def page(self, filters: Doc, sort: SortSpec, limit: int, cursor: str | None) -> Page:
        query = dict(filters)
        if cursor:
            query = (
                {"$and": [filters, cursor_filter(sort, cursor)]}
                if filters
                else cursor_filter(sort, cursor)
            )
        rows = list(self.collection.find(query).sort(sort.mongo_sort()).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor(sort, rows[-1]) if more and rows else None)

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
