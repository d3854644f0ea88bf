"""The projects function: projects owned by managers (SPEC §5).

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
from todo_common.schemas.base import ObjectIdStr, Page
from todo_common.schemas.projects import (
    ProjectCreate,
    ProjectPatch,
    ProjectPublic,
    ProjectReplace,
)
from todo_common.services.projects import ProjectService

Projects = Annotated[ProjectService, Depends(service(container.project_service))]

projects = APIRouter(prefix="/projects", tags=["projects"])


@projects.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectPublic)
async def create_project(
    body: ProjectCreate,
    principal: CurrentPrincipal,
    service: Projects,
    context: LambdaCtx,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def create() -> StoredResponse:
        project = service.create(principal, body)
        return created(ProjectPublic.of(project), f"/projects/{project.id}", project.version)

    return create_response(
        caller=principal.user_id,
        operation="POST /projects",
        payload=body,
        idempotency_key=idempotency_key,
        lambda_context=context,
        create=create,
    )


@projects.get("", response_model=Page[ProjectPublic])
async def list_projects(
    principal: CurrentPrincipal,
    service: Projects,
    page: PageParams,
    owner_id: Annotated[ObjectIdStr | None, Query(alias="ownerId")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Case-insensitive name prefix")
    ] = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
    sort: Annotated[str, Query(description="createdAt, updatedAt or name; '-' descends")] = (
        "createdAt"
    ),
) -> Page[ProjectPublic]:
    limit, cursor = page
    result = service.list(
        principal,
        owner_id=owner_id,
        q=q,
        is_active=is_active,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return Page[ProjectPublic](
        items=[ProjectPublic.of(p) for p in result.items], next_cursor=result.next_cursor
    )


@projects.get("/{project_id}", response_model=ProjectPublic)
async def get_project(
    project_id: str, principal: CurrentPrincipal, service: Projects, response: Response
) -> ProjectPublic:
    project = service.get(principal, project_id)
    with_etag(response, project.version)
    return ProjectPublic.of(project)


@projects.put("/{project_id}", response_model=ProjectPublic)
async def replace_project(
    project_id: str,
    body: ProjectReplace,
    principal: CurrentPrincipal,
    service: Projects,
    if_match: IfMatch,
    response: Response,
) -> ProjectPublic:
    project = service.update(principal, project_id, body, if_match)
    with_etag(response, project.version)
    return ProjectPublic.of(project)


@projects.patch("/{project_id}", response_model=ProjectPublic)
async def patch_project(
    project_id: str,
    body: ProjectPatch,
    principal: CurrentPrincipal,
    service: Projects,
    if_match: IfMatch,
    response: Response,
) -> ProjectPublic:
    project = service.update(principal, project_id, body, if_match)
    with_etag(response, project.version)
    return ProjectPublic.of(project)


@projects.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    project_id: str, principal: CurrentPrincipal, service: Projects, if_match: IfMatch
) -> Response:
    service.delete(principal, project_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@projects.post("/{project_id}/restore", response_model=ProjectPublic)
async def restore_project(
    project_id: str,
    principal: CurrentPrincipal,
    service: Projects,
    if_match: IfMatch,
    response: Response,
) -> ProjectPublic:
    project = service.restore(principal, project_id, if_match)
    with_etag(response, project.version)
    return ProjectPublic.of(project)


app = create_app(title="Projects", routers=[projects])
handler = lambda_handler(app, warm_up=snapstart.imports("todo_common.services.projects"))
