"""Queries on `access_tokens`: personal access tokens, found by the hash of their value."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pymongo import ASCENDING, IndexModel

from todo_common.documents import Doc
from todo_common.errors import Conflict
from todo_common.repositories.base import MongoRepository, object_id
from todo_common.repositories.shapes import list_indexes

SORT_FIELDS = {"createdAt": "createdAt"}  # oldest first


class AccessTokenRepository(MongoRepository):
    collection_name = "access_tokens"
    entity_name = "Access token"
    unique_fields: ClassVar[dict[str, str]] = {"tokenHash": "value"}
    sort_fields: ClassVar[dict[str, str]] = SORT_FIELDS
    indexes: ClassVar[list[IndexModel]] = [
        # Every request made with a token looks it up by its hash; two tokens never share one.
        IndexModel([("tokenHash", ASCENDING)], name="access_tokens_tokenHash_unique", unique=True),
        # GET /auth/tokens: a user's active tokens, oldest first.
        *list_indexes("access_tokens", (("userId", "isActive"),), SORT_FIELDS.values(), ()),
    ]

    def by_hash(self, token_hash: str) -> Doc | None:
        return self.collection.find_one({"tokenHash": token_hash})

    @staticmethod
    def list_query(*, user_id: str) -> dict[str, Any]:
        return {"userId": user_id, "isActive": True}

    def mark_used(self, token_id: str, at: datetime, address: str, if_before: datetime) -> None:
        """Note a use, unless one was noted since `if_before`: at most one write per token per
        interval, however many requests it makes. Not a change of the record (no new version)."""
        oid = object_id(token_id)
        if oid is None:
            return
        stale = {"$or": [{"lastUsedAt": None}, {"lastUsedAt": {"$lt": if_before}}]}
        try:
            with self._server.write_guard(self.collection_name, oid):
                self.collection.update_one(
                    {"_id": oid, **stale}, {"$set": {"lastUsedAt": at, "lastUsedFrom": address}}
                )
        except Conflict:  # a revocation holds the record: the request goes on, unrecorded
            pass
