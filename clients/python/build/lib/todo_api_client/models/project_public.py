from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ProjectPublic")


@_attrs_define
class ProjectPublic:
    """
    Attributes:
        id (str):
        name (str):
        description (str):
        owner_id (str):
        is_active (bool):
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: str
    name: str
    description: str
    owner_id: str
    is_active: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        description = self.description

        owner_id = self.owner_id

        is_active = self.is_active

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "name": name,
                "description": description,
                "ownerId": owner_id,
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

        name = d.pop("name")

        description = d.pop("description")

        owner_id = d.pop("ownerId")

        is_active = d.pop("isActive")

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        project_public = cls(
            id=id,
            name=name,
            description=description,
            owner_id=owner_id,
            is_active=is_active,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
        )

        return project_public
