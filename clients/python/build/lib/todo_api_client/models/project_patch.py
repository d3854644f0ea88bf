from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProjectPatch")


@_attrs_define
class ProjectPatch:
    """
    Attributes:
        name (str | Unset):
        description (str | Unset):
        owner_id (str | Unset):
    """

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    owner_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        owner_id = self.owner_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if owner_id is not UNSET:
            field_dict["ownerId"] = owner_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        description = d.pop("description", UNSET)

        owner_id = d.pop("ownerId", UNSET)

        project_patch = cls(
            name=name,
            description=description,
            owner_id=owner_id,
        )

        return project_patch
