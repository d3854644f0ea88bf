"""Queries on the `tasks` collection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pymongo import ASCENDING, IndexModel

from todo_common.documents import Doc
from todo_common.instants import utcnow
from todo_common.records import TaskStatus
from todo_common.repositories.base import MongoRepository, stamps
from todo_common.repositories.shapes import list_indexes

EQUALITY_FILTERS = ("isActive", "projectId", "assignedTo", "status")
# What lists are scoped by, then the few-valued fields every list query constrains: `isActive`,
# and `status` (all of them when the client names none), so one index serves both.
LIST_LEADS = (
    ("projectId", "isActive", "status"),
    ("assignedTo", "isActive", "status"),
    ("isActive", "status"),
)
EVERY_STATUS = [s.value for s in TaskStatus]
# `dueSort` is dueDate with "no due date" as the far future, so sorting and paging by due date
# never compares against null (null sorts and compares apart from dates in MongoDB).
NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)
SORT_FIELDS: dict[str, str] = {
    "createdAt": "createdAt",
    "updatedAt": "updatedAt",
    "dueDate": "dueSort",
}
OPEN_STATUSES = [TaskStatus.PENDING.value, TaskStatus.ASSIGNED.value]


def due_fields(due_date: datetime | None) -> Doc:
    return {"dueDate": due_date, "dueSort": due_date or NO_DUE_DATE}


class TaskRepository(MongoRepository):
    collection_name = "tasks"
    entity_name = "Task"
    sort_fields: ClassVar[dict[str, str]] = SORT_FIELDS
    change_filters: ClassVar[Doc] = {"status": {"$in": EVERY_STATUS}}
    indexes: ClassVar[list[IndexModel]] = [
        # One per (lead, sort), the other filters after the sort; `dueBefore` ranges on dueSort.
        # The assignee's lead also bounds unassigning a deleted user's open tasks.
        *list_indexes("tasks", LIST_LEADS, SORT_FIELDS.values(), EQUALITY_FILTERS, "dueSort"),
        # the cascade of a project delete/restore
        IndexModel([("cascadeId", ASCENDING)], name="tasks_cascadeId"),
    ]

    @staticmethod
    def list_query(
        *,
        is_active: bool,
        project_id: str | None = None,
        assigned_to: str | None = None,
        status: TaskStatus | None = None,
        due_before: datetime | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"isActive": is_active}
        if project_id is not None:
            query["projectId"] = project_id
        if assigned_to is not None:
            query["assignedTo"] = assigned_to
        query["status"] = status.value if status is not None else {"$in": EVERY_STATUS}
        if due_before is not None:
            query["dueSort"] = {"$lt": due_before}
        return query

    def deactivate_for_project(self, project_id: str, cascade_id: str) -> int:
        """Soft-delete the project's active tasks, tagging them with the delete that took them."""
        result = self.collection.update_many(
            {"projectId": project_id, "isActive": True},
            {
                "$set": {"isActive": False, "cascadeId": cascade_id, **stamps({"isActive": False})},
                "$inc": {"version": 1},
            },
        )
        return result.modified_count

    def restore_cascade(self, cascade_id: str) -> int:
        """Bring back exactly the tasks that one project delete took down."""
        result = self.collection.update_many(
            {"cascadeId": cascade_id, "isActive": False},
            {
                "$set": {"isActive": True, "cascadeId": None, **stamps({"isActive": True})},
                "$inc": {"version": 1},
            },
        )
        return result.modified_count

    def unassign_open(self, user_id: str) -> int:
        """Return a user's open tasks to PENDING with no assignee."""
        result = self.collection.update_many(
            {"assignedTo": user_id, "status": {"$in": OPEN_STATUSES}},
            {
                "$set": {
                    "assignedTo": None,
                    "status": TaskStatus.PENDING.value,
                    "updatedAt": utcnow(),
                },
                "$inc": {"version": 1},
            },
        )
        return result.modified_count


def _status_counts(rows: list[Doc]) -> dict[str, int]:
    return {str(row["_id"]): int(row["count"]) for row in rows}


class TaskReportQueries:
    """The aggregations behind the reports (group and count only: FerretDB supports these)."""

    def __init__(self, tasks: TaskRepository) -> None:
        self._collection = tasks.collection

    def count_by_status(self, project_id: str) -> dict[str, int]:
        return _status_counts(
            list(
                self._collection.aggregate(
                    [
                        {"$match": {"isActive": True, "projectId": project_id}},
                        {"$group": {"_id": "$status", "count": {"$sum": 1}}},
                    ]
                )
            )
        )

    def by_project_and_status(self, user_id: str) -> list[tuple[str, str, int]]:
        rows = self._collection.aggregate(
            [
                {"$match": {"isActive": True, "assignedTo": user_id}},
                {
                    "$group": {
                        "_id": {"projectId": "$projectId", "status": "$status"},
                        "count": {"$sum": 1},
                    }
                },
            ]
        )
        return [(r["_id"]["projectId"], r["_id"]["status"], int(r["count"])) for r in rows]

    def count_overdue(
        self, now: datetime, *, project_id: str | None = None, assigned_to: str | None = None
    ) -> int:
        """Open, active tasks whose due date has passed."""
        query: dict[str, Any] = {
            "isActive": True,
            "status": {"$in": OPEN_STATUSES},
            "dueSort": {"$lt": now},
        }
        if project_id is not None:
            query["projectId"] = project_id
        if assigned_to is not None:
            query["assignedTo"] = assigned_to
        return self._collection.count_documents(query)
