"""Queries on the `users` collection."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any, ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel

from todo_common.documents import Doc
from todo_common.principal import Role
from todo_common.repositories.base import MongoRepository

# API sort names -> stored fields
SORT_FIELDS = {"createdAt": "createdAt", "updatedAt": "updatedAt", "username": "usernameKey"}
EQUALITY_FILTERS = ("isActive", "role")


def _list_indexes() -> list[IndexModel]:
    """An ESR index per (equality filters, sort): the filters, the sort and `_id`, `searchKeys`."""
    models = []
    for size in range(len(EQUALITY_FILTERS) + 1):
        for eq in combinations(EQUALITY_FILTERS, size):
            for sort in SORT_FIELDS.values():
                keys = [*eq, sort, "_id", "searchKeys"]
                models.append(
                    IndexModel(
                        [(k, ASCENDING) for k in eq]
                        + [(sort, DESCENDING), ("_id", DESCENDING), ("searchKeys", ASCENDING)],
                        name="users_" + "_".join(keys),
                    )
                )
    return models


class UserRepository(MongoRepository):
    collection_name = "users"
    entity_name = "User"
    unique_fields: ClassVar[dict[str, str]] = {"email": "email", "usernameKey": "username"}
    sort_fields: ClassVar[dict[str, str]] = SORT_FIELDS
    indexes: ClassVar[list[IndexModel]] = [
        IndexModel([("email", ASCENDING)], name="users_email_unique", unique=True),
        IndexModel([("usernameKey", ASCENDING)], name="users_username_unique", unique=True),
        *_list_indexes(),
    ]

    def get_by_email(self, email: str) -> Doc | None:
        return self.collection.find_one({"email": email.lower()})

    def count_active_admins(self) -> int:
        return self.collection.count_documents({"role": Role.ADMIN.value, "isActive": True})

    @staticmethod
    def list_query(*, role: Role | None, is_active: bool | None, q: str | None) -> dict[str, Any]:
        """The directory's filter: equality on `role`/`isActive`, a prefix range on `searchKeys`."""
        query: dict[str, Any] = {}
        if role is not None:
            query["role"] = role.value
        if is_active is not None:
            query["isActive"] = is_active
        if q:
            query["searchKeys"] = {"$regex": "^" + re.escape(q.lower())}
        return query


def user_search_keys(username: str, email: str, full_name: str) -> Doc:
    """Normalised copies kept for case-insensitive uniqueness and prefix search (no collation).

    `searchKeys` holds the three values `q` matches by prefix, in one array field, so one
    multikey index per list shape serves the search (an `$or` over three fields has no index
    shape that also serves the sort).
    """
    keys = [username.lower(), email.lower(), full_name.lower()]
    return {"usernameKey": keys[0], "fullNameKey": keys[2], "searchKeys": keys}


def user_fields(
    *, username: str, email: str, full_name: str, password_hash: str, role: Role, is_active: bool
) -> Doc:
    """A new user record as stored (email lower-cased, search keys added)."""
    return {
        "username": username,
        "email": email.lower(),
        "fullName": full_name,
        "passwordHash": password_hash,
        "role": role.value,
        "isActive": is_active,
        **user_search_keys(username, email, full_name),
    }
