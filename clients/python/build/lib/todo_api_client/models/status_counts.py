from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="StatusCounts")


@_attrs_define
class StatusCounts:
    """
    Attributes:
        pending (int):
        assigned (int):
        completed (int):
    """

    pending: int
    assigned: int
    completed: int

    def to_dict(self) -> dict[str, Any]:
        pending = self.pending

        assigned = self.assigned

        completed = self.completed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "PENDING": pending,
                "ASSIGNED": assigned,
                "COMPLETED": completed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        pending = d.pop("PENDING")

        assigned = d.pop("ASSIGNED")

        completed = d.pop("COMPLETED")

        status_counts = cls(
            pending=pending,
            assigned=assigned,
            completed=completed,
        )

        return status_counts
