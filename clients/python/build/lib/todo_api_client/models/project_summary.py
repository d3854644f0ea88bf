from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.status_counts import StatusCounts


T = TypeVar("T", bound="ProjectSummary")


@_attrs_define
class ProjectSummary:
    """
    Attributes:
        project_id (str):
        total (int):
        by_status (StatusCounts):
        completion_rate (float): completed / total, 0 when there are no tasks
        overdue (int): Open tasks whose dueDate has passed
        generated_at (datetime.datetime):
    """

    project_id: str
    total: int
    by_status: StatusCounts
    completion_rate: float
    overdue: int
    generated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        project_id = self.project_id

        total = self.total

        by_status = self.by_status.to_dict()

        completion_rate = self.completion_rate

        overdue = self.overdue

        generated_at = self.generated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "projectId": project_id,
                "total": total,
                "byStatus": by_status,
                "completionRate": completion_rate,
                "overdue": overdue,
                "generatedAt": generated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.status_counts import StatusCounts  # noqa: PLC0415

        d = dict(src_dict)
        project_id = d.pop("projectId")

        total = d.pop("total")

        by_status = StatusCounts.from_dict(d.pop("byStatus"))

        completion_rate = d.pop("completionRate")

        overdue = d.pop("overdue")

        generated_at = datetime.datetime.fromisoformat(d.pop("generatedAt"))

        project_summary = cls(
            project_id=project_id,
            total=total,
            by_status=by_status,
            completion_rate=completion_rate,
            overdue=overdue,
            generated_at=generated_at,
        )

        return project_summary
