from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Tombstone")


@_attrs_define
class Tombstone:
    """A record deleted since `updatedSince`: drop your copy. Nothing else of it is shown.

    Attributes:
        id (str):
        is_active (bool):
        updated_at (datetime.datetime):
    """

    id: str
    is_active: bool
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        is_active = self.is_active

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "isActive": is_active,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        is_active = d.pop("isActive")

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        tombstone = cls(
            id=id,
            is_active=is_active,
            updated_at=updated_at,
        )

        return tombstone
