"""The reports function: the audit trail (ADMIN) and reports on projects, users and activity."""

import json
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from todo_common import container, snapstart
from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.errors import Forbidden, InvalidInput, NotFound
from todo_common.http.app import create_app, lambda_handler
from todo_common.http.declared import problems
from todo_common.http.deps import CurrentPrincipal, PageParams, service
from todo_common.http.spreadsheet import csv_lines
from todo_common.schemas.audit_trail import AuditDigestPublic, AuditVerificationPublic
from todo_common.schemas.base import ObjectIdStr, Page, UtcDateTime
from todo_common.schemas.reports import (
    AUDIT_CSV_COLUMNS,
    Activity,
    AuditPublic,
    ProjectSummary,
    UserWorkload,
)
from todo_common.services.audits import AuditService
from todo_common.services.reports import ReportService

Audits = Annotated[AuditService, Depends(service(container.audit_service))]
Reports = Annotated[ReportService, Depends(service(container.report_service))]

audits = APIRouter(prefix="/audits", tags=["audits"])
reports = APIRouter(prefix="/reports", tags=["reports"])


def _csv_rows(items: list[AuditPublic]) -> Iterator[list[str]]:
    """The cells of the JSON page's items, row by row (`changes` as JSON)."""
    for item in items:
        data = item.model_dump(mode="json", by_alias=True)
        data["changes"] = json.dumps(data["changes"], separators=(",", ":"), sort_keys=True)
        yield [str(data[c]) if data[c] is not None else "" for c in AUDIT_CSV_COLUMNS]


@audits.get(
    "",
    response_model=Page[AuditPublic],
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "JSON, or CSV with `Accept: text/csv` (next page in `Link`)",
        },
        **problems(Forbidden, InvalidInput),
    },
)
async def list_audits(
    request: Request,
    principal: CurrentPrincipal,
    service: Audits,
    page: PageParams,
    actor_id: Annotated[ObjectIdStr | None, Query(alias="actorId")] = None,
    action: AuditAction | None = None,
    entity: AuditEntity | None = None,
    entity_id: Annotated[str | None, Query(alias="entityId", max_length=320)] = None,
    from_: Annotated[UtcDateTime | None, Query(alias="from")] = None,
    to: UtcDateTime | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response | Page[AuditPublic]:
    result = service.list(
        principal,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        from_=from_,
        to=to,
        **page,
    )
    items = [AuditPublic.of(doc) for doc in result.items]
    if accept and "text/csv" in accept:
        headers = {}
        if result.next_cursor:
            query = {**request.query_params, "cursor": result.next_cursor}
            headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
        return StreamingResponse(
            csv_lines(AUDIT_CSV_COLUMNS, _csv_rows(items)),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    return Page[AuditPublic](items=items, next_cursor=result.next_cursor)


# Before `/{audit_id}`, which would otherwise take `verify` and `digests` for ids.
@audits.get(
    "/verify", response_model=AuditVerificationPublic, responses=problems(Forbidden, InvalidInput)
)
async def verify_audits(
    principal: CurrentPrincipal,
    service: Audits,
    from_: Annotated[UtcDateTime | None, Query(alias="from")] = None,
    to: UtcDateTime | None = None,
) -> AuditVerificationPublic:
    """Recompute the trail's record hashes, period hashes, chain and signatures over [from, to)
    (default: the day before `to`, at most 7 days) and name every record or period that changed."""
    return AuditVerificationPublic.of(service.verify(principal, from_, to))


@audits.get(
    "/digests", response_model=Page[AuditDigestPublic], responses=problems(Forbidden, InvalidInput)
)
async def list_audit_digests(
    principal: CurrentPrincipal, service: Audits, page: PageParams
) -> Page[AuditDigestPublic]:
    """The signed digests of the trail's closed periods, newest first."""
    result = service.digests(principal, **page)
    return Page[AuditDigestPublic].of(result, AuditDigestPublic.of)


@audits.get("/{audit_id}", response_model=AuditPublic, responses=problems(Forbidden, NotFound))
async def get_audit(audit_id: str, principal: CurrentPrincipal, service: Audits) -> AuditPublic:
    return AuditPublic.of(service.get(principal, audit_id))


@reports.get(
    "/projects/{project_id}/summary", response_model=ProjectSummary, responses=problems(NotFound)
)
async def project_summary(
    project_id: str, principal: CurrentPrincipal, service: Reports
) -> ProjectSummary:
    return ProjectSummary.of(service.project_summary(principal, project_id))


@reports.get(
    "/users/{user_id}/workload",
    response_model=UserWorkload,
    responses=problems(Forbidden, NotFound),
)
async def user_workload(
    user_id: str, principal: CurrentPrincipal, service: Reports
) -> UserWorkload:
    return UserWorkload.of(service.user_workload(principal, user_id))


@reports.get("/activity", response_model=Activity, responses=problems(Forbidden, InvalidInput))
async def activity(
    principal: CurrentPrincipal,
    service: Reports,
    from_: Annotated[UtcDateTime, Query(alias="from")],
    to: UtcDateTime,
) -> Activity:
    return Activity.of(service.activity(principal, from_, to))


app = create_app(title="Reports", routers=[audits, reports])
handler = lambda_handler(
    app,
    warm_up=snapstart.imports(
        "todo_common.services.audits",
        "todo_common.services.reports",
        "todo_common.repositories.tasks",
    ),
)
