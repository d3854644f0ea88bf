"""The reports as the reports service computes them: values, never stored. Their wire form is
`schemas/reports.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StatusCounts:
    pending: int
    assigned: int
    completed: int


@dataclass(frozen=True)
class ProjectSummary:
    project_id: str
    total: int
    by_status: StatusCounts
    completion_rate: float
    overdue: int
    generated_at: datetime


@dataclass(frozen=True)
class ProjectWorkload:
    project_id: str
    open: int
    completed: int


@dataclass(frozen=True)
class UserWorkload:
    user_id: str
    open: int
    completed: int
    overdue: int
    projects: list[ProjectWorkload]
    generated_at: datetime


@dataclass(frozen=True)
class ActivityCount:
    day: str
    action: str
    entity: str
    count: int


@dataclass(frozen=True)
class Activity:
    from_: datetime
    to: datetime
    total: int
    items: list[ActivityCount]
