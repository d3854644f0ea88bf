from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.project_workload import ProjectWorkload


T = TypeVar("T", bound="UserWorkload")


@_attrs_define
class UserWorkload:
    """
    Attributes:
        user_id (str):
        open_ (int):
        completed (int):
        overdue (int):
        projects (list[ProjectWorkload]):
        generated_at (datetime.datetime):
    """

    user_id: str
    open_: int
    completed: int
    overdue: int
    projects: list[ProjectWorkload]
    generated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        open_ = self.open_

        completed = self.completed

        overdue = self.overdue

        projects = []
        for projects_item_data in self.projects:
            projects_item = projects_item_data.to_dict()
            projects.append(projects_item)

        generated_at = self.generated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "userId": user_id,
                "open": open_,
                "completed": completed,
                "overdue": overdue,
                "projects": projects,
                "generatedAt": generated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.project_workload import ProjectWorkload  # noqa: PLC0415

        d = dict(src_dict)
        user_id = d.pop("userId")

        open_ = d.pop("open")

        completed = d.pop("completed")

        overdue = d.pop("overdue")

        projects = []
        _projects = d.pop("projects")
        for projects_item_data in _projects:
            projects_item = ProjectWorkload.from_dict(projects_item_data)

            projects.append(projects_item)

        generated_at = datetime.datetime.fromisoformat(d.pop("generatedAt"))

        user_workload = cls(
            user_id=user_id,
            open_=open_,
            completed=completed,
            overdue=overdue,
            projects=projects,
            generated_at=generated_at,
        )

        return user_workload
