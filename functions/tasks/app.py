"""The tasks function: tasks inside projects, assigned to users (SPEC §5).

Routes are `async def` on purpose, though the services block: one request per Lambda container
means nothing else waits on the event loop, and sync routes would add a thread hop per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from todo_common import container, snapstart
from todo_common.http.app import create_app, lambda_handler
from todo_common.http.deps import (
    CurrentPrincipal,
    IdempotencyKey,
    IfMatch,
    LambdaCtx,
    PageParams,
    service,
)
from todo_common.http.responses import create_response, created, with_etag
from todo_common.idempotency import StoredResponse
from todo_common.models import TaskStatus
from todo_common.schemas.base import ObjectIdOrMe, ObjectIdStr, Page
from todo_common.schemas.tasks import DueDate, TaskCreate, TaskPatch, TaskPublic, TaskReplace
from todo_common.services.tasks import TaskService

Tasks = Annotated[TaskService, Depends(service(container.task_service))]

tasks = APIRouter(prefix="/tasks", tags=["tasks"])

AssignedTo = Annotated[
    ObjectIdOrMe | None,
    Query(alias="assignedTo", description="A user id, or `me` for the caller"),
]


@tasks.post("", status_code=status.HTTP_201_CREATED, response_model=TaskPublic)
async def create_task(
    body: TaskCreate,
    principal: CurrentPrincipal,
    service: Tasks,
    context: LambdaCtx,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def create() -> StoredResponse:
        task = service.create(principal, body)
        return created(TaskPublic.of(task), f"/tasks/{task.id}", task.version)

    return create_response(
        caller=principal.user_id,
        operation="POST /tasks",
        payload=body,
        idempotency_key=idempotency_key,
        lambda_context=context,
        create=create,
    )


@tasks.get("", response_model=Page[TaskPublic])
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
) -> Page[TaskPublic]:
    limit, cursor = page
    result = service.list(
        principal,
        project_id=project_id,
        assigned_to=assigned_to,
        status=status_,
        due_before=due_before,
        is_active=is_active,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return Page[TaskPublic](
        items=[TaskPublic.of(t) for t in result.items], next_cursor=result.next_cursor
    )


@tasks.get("/{task_id}", response_model=TaskPublic)
async def get_task(
    task_id: str, principal: CurrentPrincipal, service: Tasks, response: Response
) -> TaskPublic:
    task = service.get(principal, task_id)
    with_etag(response, task.version)
    return TaskPublic.of(task)


@tasks.put("/{task_id}", response_model=TaskPublic)
async def replace_task(
    task_id: str,
    body: TaskReplace,
    principal: CurrentPrincipal,
    service: Tasks,
    if_match: IfMatch,
    response: Response,
) -> TaskPublic:
    task = service.update(principal, task_id, body, if_match, replace=True)
    with_etag(response, task.version)
    return TaskPublic.of(task)


@tasks.patch("/{task_id}", response_model=TaskPublic)
async def patch_task(
    task_id: str,
    body: TaskPatch,
    principal: CurrentPrincipal,
    service: Tasks,
    if_match: IfMatch,
    response: Response,
) -> TaskPublic:
    task = service.update(principal, task_id, body, if_match)
    with_etag(response, task.version)
    return TaskPublic.of(task)


@tasks.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(
    task_id: str, principal: CurrentPrincipal, service: Tasks, if_match: IfMatch
) -> Response:
    service.delete(principal, task_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@tasks.post("/{task_id}/restore", response_model=TaskPublic)
async def restore_task(
    task_id: str, principal: CurrentPrincipal, service: Tasks, if_match: IfMatch, response: Response
) -> TaskPublic:
    task = service.restore(principal, task_id, if_match)
    with_etag(response, task.version)
    return TaskPublic.of(task)


app = create_app(title="Tasks", routers=[tasks])
handler = lambda_handler(app, warm_up=snapstart.imports("todo_common.services.tasks"))
