from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="TaskReplace")


@_attrs_define
class TaskReplace:
    """PUT: every client-writable field; leaving `assignedTo`/`dueDate` out clears them.

    Attributes:
        project_id (str):
        description (str):
        status (TaskStatus):
        assigned_to (None | str | Unset):
        due_date (datetime.date | datetime.datetime | None | Unset):
    """

    project_id: str
    description: str
    status: TaskStatus
    assigned_to: None | str | Unset = UNSET
    due_date: datetime.date | datetime.datetime | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        project_id = self.project_id

        description = self.description

        status = self.status.value

        assigned_to: None | str | Unset
        if isinstance(self.assigned_to, Unset):
            assigned_to = UNSET
        else:
            assigned_to = self.assigned_to

        due_date: None | str | Unset
        if isinstance(self.due_date, Unset):
            due_date = UNSET
        elif isinstance(self.due_date, datetime.datetime):
            due_date = self.due_date.isoformat()
        elif isinstance(self.due_date, datetime.date):
            due_date = self.due_date.isoformat()
        else:
            due_date = self.due_date

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "projectId": project_id,
                "description": description,
                "status": status,
            }
        )
        if assigned_to is not UNSET:
            field_dict["assignedTo"] = assigned_to
        if due_date is not UNSET:
            field_dict["dueDate"] = due_date

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        project_id = d.pop("projectId")

        description = d.pop("description")

        status = TaskStatus(d.pop("status"))

        def _parse_assigned_to(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        assigned_to = _parse_assigned_to(d.pop("assignedTo", UNSET))

        def _parse_due_date(data: object) -> datetime.date | datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                due_date_type_0 = datetime.datetime.fromisoformat(data)

                return due_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                due_date_type_1 = datetime.date.fromisoformat(data)

                return due_date_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | datetime.datetime | None | Unset, data)

        due_date = _parse_due_date(d.pop("dueDate", UNSET))

        task_replace = cls(
            project_id=project_id,
            description=description,
            status=status,
            assigned_to=assigned_to,
            due_date=due_date,
        )

        return task_replace
