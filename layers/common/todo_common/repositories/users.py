"""Queries on the `users` collection."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel

from todo_common.models import Role
from todo_common.repositories.base import Doc, MongoRepository
from todo_common.repositories.pagination import Page, SortSpec


class UserRepository(MongoRepository):
    collection_name = "users"
    entity_name = "User"
    unique_fields: ClassVar[dict[str, str]] = {"email": "email", "usernameKey": "username"}
    # API sort names -> stored fields
    sort_fields: ClassVar[dict[str, str]] = {
        "createdAt": "createdAt",
        "updatedAt": "updatedAt",
        "username": "usernameKey",
    }
    indexes: ClassVar[list[IndexModel]] = [
        IndexModel([("email", ASCENDING)], name="users_email_unique", unique=True),
        IndexModel([("usernameKey", ASCENDING)], name="users_username_unique", unique=True),
        IndexModel(
            [("isActive", ASCENDING), ("createdAt", DESCENDING), ("_id", DESCENDING)],
            name="users_active_created",
        ),
        IndexModel(
            [
                ("isActive", ASCENDING),
                ("role", ASCENDING),
                ("createdAt", DESCENDING),
                ("_id", DESCENDING),
            ],
            name="users_active_role_created",
        ),
        IndexModel([("role", ASCENDING), ("isActive", ASCENDING)], name="users_role_active"),
    ]

    def get_by_email(self, email: str) -> Doc | None:
        return self.collection.find_one({"email": email.lower()})

    def count_active_admins(self) -> int:
        return self.collection.count_documents({"role": Role.ADMIN.value, "isActive": True})

    def search(
        self,
        *,
        role: Role | None,
        is_active: bool | None,
        q: str | None,
        sort: SortSpec,
        limit: int,
        cursor: str | None,
    ) -> Page:
        filters: dict[str, Any] = {}
        if role is not None:
            filters["role"] = role.value
        if is_active is not None:
            filters["isActive"] = is_active
        if q:
            prefix = {"$regex": "^" + re.escape(q.lower())}
            filters["$or"] = [{"usernameKey": prefix}, {"email": prefix}, {"fullNameKey": prefix}]
        stored = SortSpec(self.sort_fields[sort.field], sort.descending)
        return self.page(filters, stored, limit, cursor)


def user_search_keys(username: str, full_name: str) -> Doc:
    """Normalised copies kept for case-insensitive uniqueness and prefix search (no collation)."""
    return {"usernameKey": username.lower(), "fullNameKey": full_name.lower()}


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
        **user_search_keys(username, full_name),
    }
