from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ProjectWorkload")


@_attrs_define
class ProjectWorkload:
    """
    Attributes:
        project_id (str):
        open_ (int):
        completed (int):
    """

    project_id: str
    open_: int
    completed: int

    def to_dict(self) -> dict[str, Any]:
        project_id = self.project_id

        open_ = self.open_

        completed = self.completed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "projectId": project_id,
                "open": open_,
                "completed": completed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        project_id = d.pop("projectId")

        open_ = d.pop("open")

        completed = d.pop("completed")

        project_workload = cls(
            project_id=project_id,
            open_=open_,
            completed=completed,
        )

        return project_workload
