"""Queries on the `users` collection."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pymongo import ASCENDING, IndexModel

from todo_common.documents import Doc
from todo_common.principal import Role
from todo_common.repositories.base import MongoRepository
from todo_common.repositories.shapes import list_indexes

# API sort names -> stored fields
SORT_FIELDS = {"createdAt": "createdAt", "updatedAt": "updatedAt", "username": "usernameKey"}
EQUALITY_FILTERS = ("isActive", "role")
# Both are few-valued, and a list query not filtering on one asks for all its values: one lead
# serves every filter combination (shapes.py).
LIST_LEADS = (EQUALITY_FILTERS,)
EVERY_ROLE = [r.value for r in Role]


class UserRepository(MongoRepository):
    collection_name = "users"
    entity_name = "User"
    unique_fields: ClassVar[dict[str, str]] = {"email": "email", "usernameKey": "username"}
    sort_fields: ClassVar[dict[str, str]] = SORT_FIELDS
    indexes: ClassVar[list[IndexModel]] = [
        IndexModel([("email", ASCENDING)], name="users_email_unique", unique=True),
        IndexModel([("usernameKey", ASCENDING)], name="users_username_unique", unique=True),
        # One per sort: the filters, the sort and `_id`, then `searchKeys` that `q` ranges over.
        *list_indexes(
            "users",
            LIST_LEADS,
            SORT_FIELDS.values(),
            EQUALITY_FILTERS,
            "searchKeys",
            descending=True,
        ),
    ]

    def get_by_email(self, email: str) -> Doc | None:
        return self.collection.find_one({"email": email.lower()})

    def count_active_admins(self) -> int:
        return self.collection.count_documents({"role": Role.ADMIN.value, "isActive": True})

    @staticmethod
    def list_query(*, role: Role | None, is_active: bool | None, q: str | None) -> dict[str, Any]:
        """The directory's filter: equality on `role`/`isActive` (every value of one not given, so
        one index serves all), a prefix range on `searchKeys`."""
        query: dict[str, Any] = {
            "role": role.value if role is not None else {"$in": EVERY_ROLE},
            "isActive": is_active if is_active is not None else {"$in": [True, False]},
        }
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
