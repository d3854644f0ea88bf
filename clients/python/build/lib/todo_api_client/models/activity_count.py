from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ActivityCount")


@_attrs_define
class ActivityCount:
    """
    Attributes:
        day (str): UTC day, YYYY-MM-DD
        action (str):
        entity (str):
        count (int):
    """

    day: str
    action: str
    entity: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        day = self.day

        action = self.action

        entity = self.entity

        count = self.count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "day": day,
                "action": action,
                "entity": entity,
                "count": count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        day = d.pop("day")

        action = d.pop("action")

        entity = d.pop("entity")

        count = d.pop("count")

        activity_count = cls(
            day=day,
            action=action,
            entity=entity,
            count=count,
        )

        return activity_count
