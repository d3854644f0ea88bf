"""The tasks function: tasks inside projects, assigned to users (SPEC §5)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from todo_common import container, snapstart
from todo_common.errors import Forbidden, InvalidInput, NotFound
from todo_common.http.app import create_app, lambda_handler
from todo_common.http.deps import CurrentPrincipal, PageParams, UpdatedSince, service, sync_sort
from todo_common.http.records import (
    Create,
    Write,
    creates,
    lists,
    read_route,
    revises,
    soft_delete_routes,
)
from todo_common.records import TaskStatus
from todo_common.schemas.base import ChangePage, ObjectIdOrMe, ObjectIdStr, Page
from todo_common.schemas.tasks import DueDate, TaskCreate, TaskPatch, TaskPublic, TaskReplace
from todo_common.services.tasks import TaskService

Tasks = Annotated[TaskService, Depends(service(container.task_service))]

tasks = APIRouter(prefix="/tasks", tags=["tasks"])

AssignedTo = Annotated[
    ObjectIdOrMe | None,
    Query(alias="assignedTo", description="A user id, or `me` for the caller"),
]


@creates(tasks, TaskPublic, Forbidden, InvalidInput)
async def create_task(body: TaskCreate, new: Create, service: Tasks) -> Response:
    return new.respond(body, lambda: TaskPublic.of(service.create(new.principal, body)))


@lists(tasks, TaskPublic, Forbidden, InvalidInput)
async def list_tasks(
    principal: CurrentPrincipal,
    service: Tasks,
    page: PageParams,
    project_id: Annotated[ObjectIdStr | None, Query(alias="projectId")] = None,
    assigned_to: AssignedTo = None,
    status_: Annotated[TaskStatus | None, Query(alias="status")] = None,
    due_before: Annotated[DueDate | None, Query(alias="dueBefore")] = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
    sort: Annotated[str, Query(description="createdAt, updatedAt or dueDate; '-' descends")] = (
        "createdAt"
    ),
    updated_since: UpdatedSince = None,
) -> ChangePage[TaskPublic] | Page[TaskPublic]:
    if updated_since is not None:
        narrowed_by = {
            "projectId": project_id,
            "assignedTo": assigned_to,
            "status": status_,
            "dueBefore": due_before,
            "isActive": is_active,
            "sort": sync_sort(sort),
        }
        changes = service.changes(principal, updated_since, narrowed_by=narrowed_by, **page)
        return ChangePage[TaskPublic].of(changes, TaskPublic.of)
    result = service.list(
        principal,
        project_id=project_id,
        assigned_to=assigned_to,
        status=status_,
        due_before=due_before,
        is_active=is_active,
        sort=sort,
        **page,
    )
    return Page[TaskPublic].of(result, TaskPublic.of)


read_route(tasks, "task", Tasks, TaskPublic, NotFound)


@revises(tasks.put, "/{task_id}", TaskPublic)
async def replace_task(task_id: str, body: TaskReplace, write: Write, service: Tasks) -> TaskPublic:
    task = service.update(write.principal, task_id, body, write.if_match, replace=True)
    return write.answer(TaskPublic.of(task))


@revises(tasks.patch, "/{task_id}", TaskPublic)
async def patch_task(task_id: str, body: TaskPatch, write: Write, service: Tasks) -> TaskPublic:
    task = service.update(write.principal, task_id, body, write.if_match)
    return write.answer(TaskPublic.of(task))


soft_delete_routes(tasks, "task", Tasks, TaskPublic)

app = create_app(title="Tasks", routers=[tasks])
handler = lambda_handler(app, warm_up=snapstart.imports("todo_common.services.tasks"))
