from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProjectReplace")


@_attrs_define
class ProjectReplace:
    """PUT: name and description are replaced; ownerId as in PATCH (ADMIN only).

    Attributes:
        name (str):
        description (str):
        owner_id (str | Unset):
    """

    name: str
    description: str
    owner_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        owner_id = self.owner_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "description": description,
            }
        )
        if owner_id is not UNSET:
            field_dict["ownerId"] = owner_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        description = d.pop("description")

        owner_id = d.pop("ownerId", UNSET)

        project_replace = cls(
            name=name,
            description=description,
            owner_id=owner_id,
        )

        return project_replace
