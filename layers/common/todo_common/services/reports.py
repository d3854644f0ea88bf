"""Reports: a project's progress, a user's workload, activity over time (SPEC §5)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from todo_common.errors import FieldError, InvalidInput, NotFound
from todo_common.instants import utcnow
from todo_common.principal import Principal
from todo_common.rbac import Action, Resource, authorize, owner_relation, sees_inactive
from todo_common.records import Project, TaskStatus
from todo_common.report_values import (
    Activity,
    ActivityCount,
    ProjectSummary,
    ProjectWorkload,
    StatusCounts,
    UserWorkload,
)
from todo_common.repositories.audits import AuditRepository
from todo_common.repositories.base import object_id
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskReportQueries
from todo_common.repositories.users import UserRepository
from todo_common.services.audits import check_range

MAX_ACTIVITY_RANGE = timedelta(days=366)


@dataclass(eq=False)
class ReportService:
    _tasks: TaskReportQueries
    _projects: ProjectRepository
    _users: UserRepository
    _audits: AuditRepository

    def project_summary(self, principal: Principal, project_id: str) -> ProjectSummary:
        """Task counts by status, completion rate and overdue count of one project."""
        authorize(Action.REPORT_PROJECT_SUMMARY, principal)
        doc = self._projects.get(project_id)
        project = Project.from_document(doc) if doc else None
        if project is None or (
            not project.is_active
            and not sees_inactive(
                principal, Resource.PROJECT, owner_relation(principal, project.owner_id)
            )
        ):
            raise NotFound("Project not found")
        counts = self._tasks.count_by_status(project.id)
        total = sum(counts.values())
        completed = counts.get(TaskStatus.COMPLETED.value, 0)
        now = utcnow()
        return ProjectSummary(
            project_id=project.id,
            total=total,
            by_status=StatusCounts(**{s.value.lower(): counts.get(s.value, 0) for s in TaskStatus}),
            completion_rate=round(completed / total, 4) if total else 0.0,
            overdue=self._tasks.count_overdue(now, project_id=project.id),
            generated_at=now,
        )

    def user_workload(self, principal: Principal, user_id: str) -> UserWorkload:
        """A user's open and completed tasks per project, and how many are overdue."""
        if object_id(user_id) is None:
            raise NotFound("User not found")
        own = owner_relation(principal, user_id)
        authorize(Action.REPORT_USER_WORKLOAD, principal, own)
        doc = self._users.get(user_id)
        if doc is None or (
            not doc["isActive"] and not sees_inactive(principal, Resource.USER, own)
        ):
            raise NotFound("User not found")
        per_project: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "completed": 0})
        for project_id, status, count in self._tasks.by_project_and_status(user_id):
            kind = "completed" if status == TaskStatus.COMPLETED.value else "open"
            per_project[project_id][kind] += count
        now = utcnow()
        return UserWorkload(
            user_id=user_id,
            open=sum(p["open"] for p in per_project.values()),
            completed=sum(p["completed"] for p in per_project.values()),
            overdue=self._tasks.count_overdue(now, assigned_to=user_id),
            projects=[
                ProjectWorkload(project_id=pid, **counts)
                for pid, counts in sorted(per_project.items())
            ],
            generated_at=now,
        )

    def activity(self, principal: Principal, from_: datetime, to: datetime) -> Activity:
        """Audit counts per day, action and entity over [from, to), at most 366 days."""
        authorize(Action.REPORT_ACTIVITY, principal)
        check_range(from_, to)
        if to - from_ > MAX_ACTIVITY_RANGE:
            raise InvalidInput(
                "The range may span at most 366 days",
                [FieldError(("query", "to"), "range too long")],
            )
        items = [
            ActivityCount(
                day=g["_id"]["day"],
                action=g["_id"]["action"],
                entity=g["_id"]["entity"],
                count=int(g["count"]),
            )
            for g in self._audits.activity(from_, to)
        ]
        return Activity(from_=from_, to=to, total=sum(i.count for i in items), items=items)
