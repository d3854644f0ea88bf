"""Test data, created through the same repository code the API uses."""

from __future__ import annotations

import itertools
from typing import Any

from pymongo.database import Database

from todo_common.models import Role, User
from todo_common.repositories.users import UserRepository, user_search_keys
from todo_common.security.passwords import hash_password

DEFAULT_PASSWORD = "correct-horse-9"
_counter = itertools.count(1)


def make_user(
    db: Database[dict[str, Any]],
    *,
    role: Role = Role.USER,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
    username: str | None = None,
    email: str | None = None,
    full_name: str | None = None,
) -> User:
    n = next(_counter)
    username = username or f"{role.value.lower()}{n}"
    full_name = full_name or f"Test {role.value.title()} {n}"
    doc = UserRepository(db).insert(
        {
            "username": username,
            "email": (email or f"{username}@example.com").lower(),
            "fullName": full_name,
            "passwordHash": hash_password(password, 4),
            "role": role.value,
            "isActive": is_active,
            **user_search_keys(username, full_name),
        }
    )
    return User.from_document(doc)
