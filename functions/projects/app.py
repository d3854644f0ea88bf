"""The projects function: projects owned by managers (SPEC §5).

Routes are `async def` on purpose, though the services block: one request per Lambda container
means nothing else waits on the event loop, and sync routes would add a thread hop per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from todo_common import container, snapstart
from todo_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from todo_common.http.app import create_app, lambda_handler
from todo_common.http.declared import problems
from todo_common.http.deps import CurrentPrincipal, PageParams, UpdatedSince, service, sync_sort
from todo_common.http.records import Create, Write, creates, read_route, soft_delete_routes
from todo_common.schemas.base import ChangePage, ObjectIdStr, Page
from todo_common.schemas.projects import (
    ProjectCreate,
    ProjectPatch,
    ProjectPublic,
    ProjectReplace,
)
from todo_common.services.projects import ProjectService

Projects = Annotated[ProjectService, Depends(service(container.project_service))]

projects = APIRouter(prefix="/projects", tags=["projects"])


@creates(projects, ProjectPublic, Forbidden, InvalidInput)
async def create_project(body: ProjectCreate, new: Create, service: Projects) -> Response:
    return new.respond(body, lambda: ProjectPublic.of(service.create(new.principal, body)))


@projects.get(
    "",
    response_model=ChangePage[ProjectPublic] | Page[ProjectPublic],
    responses=problems(Forbidden, InvalidInput),
)
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
    updated_since: UpdatedSince = None,
) -> ChangePage[ProjectPublic] | Page[ProjectPublic]:
    if updated_since is not None:
        narrowed_by = {"ownerId": owner_id, "q": q, "isActive": is_active, "sort": sync_sort(sort)}
        changes = service.changes(principal, updated_since, narrowed_by=narrowed_by, **page)
        return ChangePage[ProjectPublic].of(changes, ProjectPublic.of)
    result = service.list(principal, owner_id=owner_id, q=q, is_active=is_active, sort=sort, **page)
    return Page[ProjectPublic].of(result, ProjectPublic.of)


read_route(projects, "project", Projects, ProjectPublic, NotFound)


@projects.put(
    "/{project_id}",
    response_model=ProjectPublic,
    responses=problems(Conflict, Forbidden, InvalidInput, NotFound),
)
async def replace_project(
    project_id: str, body: ProjectReplace, write: Write, service: Projects
) -> ProjectPublic:
    project = service.update(write.principal, project_id, body, write.if_match)
    return write.answer(ProjectPublic.of(project))


@projects.patch(
    "/{project_id}",
    response_model=ProjectPublic,
    responses=problems(Conflict, Forbidden, InvalidInput, NotFound),
)
async def patch_project(
    project_id: str, body: ProjectPatch, write: Write, service: Projects
) -> ProjectPublic:
    project = service.update(write.principal, project_id, body, write.if_match)
    return write.answer(ProjectPublic.of(project))


soft_delete_routes(projects, "project", Projects, ProjectPublic)

app = create_app(title="Projects", routers=[projects])
handler = lambda_handler(app, warm_up=snapstart.imports("todo_common.services.projects"))
