"""FastAPI dependencies shared by every function: the caller, ETags, paging, services.

They are `async def` although they may block (a Redis or MongoDB call): a Lambda container serves
one request at a time, so blocking its event loop costs nothing, while FastAPI would run every
sync dependency through a thread pool hop on each request.
"""

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, NamedTuple, TypedDict, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.security import OAuth2PasswordBearer

from todo_common import container, tracing
from todo_common.errors import (
    FieldError,
    Forbidden,
    InvalidInput,
    PreconditionFailed,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from todo_common.http.declared import Headers, answers
from todo_common.logs import logger
from todo_common.principal import Principal
from todo_common.rbac import authorize_scope
from todo_common.repositories.pagination import DEFAULT_LIMIT, MAX_LIMIT
from todo_common.schemas.base import UtcDateTime
from todo_common.security.access_tokens import is_access_token

T = TypeVar("T")
bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


# Every authenticated request counts against its session's budget (`AuthService.authenticate`):
# once the caller is known, every answer says where it stands, errors included.
RATE_LIMIT_HEADERS = ("RateLimit-Policy", "RateLimit")
_AFTER_THE_CALLER = frozenset({403, 404, 409, 412, 422, 429})


@answers(  # the session lives in Redis
    Unauthorized,
    ServiceUnavailable,
    TooManyRequests,
    on_writes=(Forbidden,),  # a personal access token without the `write` scope
    headers=Headers(RATE_LIMIT_HEADERS, after=_AFTER_THE_CALLER),
)
async def current_principal(
    request: Request, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    """The caller: a session's access token (a JWT), or a personal access token (`todo_pat_…`),
    whose scopes are checked here, once, against the request's method."""
    if not token:
        raise Unauthorized("Not authenticated", error=None)
    auth = container.auth_service()
    if is_access_token(token):
        principal = auth.authenticate_access_token(token, await client_ip(request))
    else:
        principal = auth.authenticate(token)
    # Every later log line of the request, and its trace, say who asked (the id, never an email).
    logger.append_keys(user_id=principal.user_id)
    tracing.annotate(user_id=principal.user_id)
    authorize_scope(principal, request.method)
    return principal


_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
# What the document tells clients `If-Match` may be; anything else is 412 (never matches).
_ETAG_OR_ANY = r'^(\*|(W/)?"?[0-9]{1,18}"?)$'


@answers(PreconditionFailed)
async def if_match_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The `ETag` read (`"3"`), or `*`; a stale one is 412',
            json_schema_extra={"pattern": _ETAG_OR_ANY},
        ),
    ] = None,
) -> int | None:
    """The version an `If-Match` header names (`"3"`), None without one or for `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise PreconditionFailed('If-Match must be an ETag this API issued, such as "3"')
    return int(match.group(1))


async def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class LoginClient(NamedTuple):
    """Who is logging in: the address the login throttle counts, and the `User-Agent` the
    session records (`GET /auth/sessions`)."""

    address: str
    user_agent: str


# The login throttle reports the pair's budget on the answers that follow its count: the success,
# a 401 (wrong credentials) and its 429.
@answers(headers=Headers(RATE_LIMIT_HEADERS, after=frozenset({401, 429})))
async def login_client(request: Request) -> LoginClient:
    return LoginClient(await client_ip(request), request.headers.get("user-agent", ""))


async def lambda_context(request: Request) -> Any:
    """The Lambda context Mangum puts in the ASGI scope (None outside Lambda)."""
    return request.scope.get("aws.context")


def _no_blank_cursor(cursor: str | None) -> str | None:
    if cursor is not None and not cursor.strip():
        raise InvalidInput("cursor may not be empty", [FieldError(("query", "cursor"), "empty")])
    return cursor


class PageQuery(TypedDict):
    """`?limit=` and `?cursor=`, named as every service's list method takes them (`**page`)."""

    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> PageQuery:
    return {"limit": limit, "cursor": _no_blank_cursor(cursor)}


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes a retried create safe (24 h)",
        min_length=1,
        max_length=255,
    ),
]
PageParams = Annotated[PageQuery, Depends(page_params)]
# Delta sync (services/sync.py): the page then holds `ChangePage` items and a `nextSince`.
UpdatedSince = Annotated[
    UtcDateTime | None,
    Query(
        alias="updatedSince",
        description="Sync: the records written since this instant, oldest write first, deleted "
        "ones as tombstones, and `nextSince` for the next sync. No other filter, and `sort` only "
        "`updatedAt`",
    ),
]


def sync_sort(sort: str) -> str | None:
    """A list's `sort` as a sync sees it: the default and `updatedAt` are the sync's own order;
    any other is a filter it refuses."""
    return None if sort in {"createdAt", "updatedAt"} else sort


ClientIp = Annotated[str, Depends(client_ip)]
Client = Annotated[LoginClient, Depends(login_client)]
LambdaCtx = Annotated[Any, Depends(lambda_context)]


def service(factory: Callable[[], T]) -> Callable[[], Coroutine[Any, Any, T]]:
    """A dependency that gives the container's `factory()`, as an `async def` (FastAPI runs a
    sync dependency in a thread). Each function names the services it uses, so its cold start
    imports only those. A service reads MongoDB or Redis, either of which may be down (`503`);
    the errors of its rules are declared by each route that calls it."""

    @answers(ServiceUnavailable)
    async def dependency() -> T:
        return factory()

    return dependency
