from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.role import Role

T = TypeVar("T", bound="UserPublic")


@_attrs_define
class UserPublic:
    """
    Attributes:
        id (str):
        username (str):
        email (str):
        full_name (str):
        role (Role):
        is_active (bool):
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: str
    username: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        username = self.username

        email = self.email

        full_name = self.full_name

        role = self.role.value

        is_active = self.is_active

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "username": username,
                "email": email,
                "fullName": full_name,
                "role": role,
                "isActive": is_active,
                "version": version,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        username = d.pop("username")

        email = d.pop("email")

        full_name = d.pop("fullName")

        role = Role(d.pop("role"))

        is_active = d.pop("isActive")

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        user_public = cls(
            id=id,
            username=username,
            email=email,
            full_name=full_name,
            role=role,
            is_active=is_active,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
        )

        return user_public
