"""The projects function: projects owned by managers (SPEC §5)."""

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


@lists(projects, ProjectPublic, Forbidden, InvalidInput)
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


@revises(projects.put, "/{project_id}", ProjectPublic)
async def replace_project(
    project_id: str, body: ProjectReplace, write: Write, service: Projects
) -> ProjectPublic:
    project = service.update(write.principal, project_id, body, write.if_match)
    return write.answer(ProjectPublic.of(project))


@revises(projects.patch, "/{project_id}", ProjectPublic)
async def patch_project(
    project_id: str, body: ProjectPatch, write: Write, service: Projects
) -> ProjectPublic:
    project = service.update(write.principal, project_id, body, write.if_match)
    return write.answer(ProjectPublic.of(project))


soft_delete_routes(projects, "project", Projects, ProjectPublic)

app = create_app(title="Projects", routers=[projects])
handler = lambda_handler(app, warm_up=snapstart.imports("todo_common.services.projects"))
