"""One record over HTTP (SPEC §6), the shape every route on users, projects and tasks shares.

A route takes one of these dependencies instead of repeating the caller, the `If-Match`, the
`Idempotency-Key` and the response in its signature:

- `Read`: who asks; `answer(model)` sends the record with its version as the `ETag`, or `304`
  with no body when the caller's `If-None-Match` names that version;
- `Write`: the same, plus the version the caller read (`If-Match`, `None` for none or `*`);
- `Create`: who asks, the `Idempotency-Key` and the route (`POST /things`); `respond(...)` runs
  the create at most once per key and answers `201` with `Location` and `ETag`.

Each dependency declares what it answers itself (`@answers`: the caller's `401`, a stale
`If-Match`'s `412`, a retry's `409`); a route declares what its service call may raise
(`responses=problems(...)`). Every record is created by `POST /things` (`creates`, a `201` with the
record), and soft-deleted and restored by the same two routes (`soft_delete_routes`).

No `from __future__ import annotations` here: FastAPI reads the annotations of
`soft_delete_routes`' endpoints, which name its arguments, not module globals.
"""

from collections.abc import Callable
from typing import Annotated, Any, NamedTuple, Protocol, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from todo_common.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from todo_common.http.declared import Outcome, answers, problems
from todo_common.http.deps import CurrentPrincipal, IdempotencyKey, IfMatch, LambdaCtx
from todo_common.http.responses import CreatedRecord, create_response, created, etag, with_etag
from todo_common.principal import Principal
from todo_common.schemas.base import ChangePage, Page


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


class RecordRead(NamedTuple):
    principal: Principal
    response: Response
    if_none_match: str | None

    def answer(self, model: V) -> V | Response:
        """`model` with its version as the `ETag`; `304` and no body when the caller already
        holds that version (`If-None-Match`)."""
        tag = etag(model.version)
        headers = {"ETag": tag, "Cache-Control": REVALIDATE}
        if self.if_none_match is not None and holds(self.if_none_match, tag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        self.response.headers.update(headers)
        return model


class RecordWrite(NamedTuple):
    principal: Principal
    response: Response
    if_match: int | None

    def answer(self, model: V) -> V:
        """`model` as the answer, its version as the response's `ETag`."""
        with_etag(self.response, model.version)
        return model


class RecordCreate(NamedTuple):
    principal: Principal
    idempotency_key: str | None
    lambda_context: Any
    operation: str  # `POST /things`: the idempotency records' scope, and where things are

    def respond(self, payload: BaseModel, create: Callable[[], CreatedRecord]) -> JSONResponse:
        """Run `create` (with an `Idempotency-Key`, at most once per key, replaying it after);
        answer the record it gives at `/things/<id>`."""
        collection = self.operation.partition(" ")[2]
        return create_response(
            caller=self.principal.user_id,
            operation=self.operation,
            payload=payload,
            idempotency_key=self.idempotency_key,
            lambda_context=self.lambda_context,
            create=lambda: created(create(), collection),
        )


# A client may keep what it read, but asks again each time (the record changes under it).
REVALIDATE = "private, no-cache"


def holds(if_none_match: str, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (weakly, as RFC 9110 §13.1.2 compares), or is `*`.
    Like every header it is a free string: one that names no version is no match, never a 422
    (API Gateway bounds a request's headers)."""
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


@answers(
    success_headers=("Cache-Control",),
    outcomes=(
        Outcome(304, "The caller's copy is current (`If-None-Match`)", ("ETag", "Cache-Control")),
    ),
)
async def record_read(
    principal: CurrentPrincipal,
    response: Response,
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            description='The `ETag` of the copy the caller holds (`"3"`): `304` while current',
        ),
    ] = None,
) -> RecordRead:
    return RecordRead(principal, response, if_none_match)


async def record_write(
    principal: CurrentPrincipal, if_match: IfMatch, response: Response
) -> RecordWrite:
    return RecordWrite(principal, response, if_match)


# A retry while the first is still running is a 409; the same key with another body a 422.
@answers(Conflict, InvalidInput, success_headers=("Idempotent-Replayed",))
async def record_create(
    request: Request,
    principal: CurrentPrincipal,
    context: LambdaCtx,
    idempotency_key: IdempotencyKey = None,
) -> RecordCreate:
    operation = f"{request.method} {request.scope['route'].path}"
    return RecordCreate(principal, idempotency_key, context, operation)


Read = Annotated[RecordRead, Depends(record_read)]
Write = Annotated[RecordWrite, Depends(record_write)]
Create = Annotated[RecordCreate, Depends(record_create)]


def creates(
    router: APIRouter, public: type[BaseModel], *errors: type[DomainError]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`POST /things` on `router`: `201` with the `public` record, and the `errors` its service
    may raise (the keyed retry's own come from `Create`)."""
    return router.post(
        "", status_code=status.HTTP_201_CREATED, response_model=public, responses=problems(*errors)
    )


def lists(
    router: APIRouter, public: type[BaseModel], *errors: type[DomainError]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`GET /things` of a collection that syncs: a page of `public` records, or with
    `updatedSince` a `ChangePage` of them (services/sync.py)."""
    pages = ChangePage[public] | Page[public]  # type: ignore[valid-type]
    return router.get("", response_model=pages, responses=problems(*errors))


REVISION_PROBLEMS = (Conflict, Forbidden, InvalidInput, NotFound)


def revises(
    route: Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]],
    path: str,
    public: type[BaseModel],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A PUT or PATCH of one record (`route` is `router.put` or `router.patch`): its `public`
    form, and what a revision may answer: deleted (409), not the caller's (403), a bad body
    (422), missing (404); the stale If-Match's 412 comes from `Write`."""
    return route(path, response_model=public, responses=problems(*REVISION_PROBLEMS))


class PublicRecord(Protocol):
    """A record's public schema (`…Public`)."""

    @classmethod
    def of(cls, record: Any) -> Versioned: ...


def read_route(
    router: APIRouter, record: str, service: Any, public: type[PublicRecord], *errors: type
) -> None:
    """`GET /{<record>_id}` on `router`, named `get_<record>`: the record with its ETag, or `304`
    to a caller holding that version. `service` is the function's `Annotated[XService, …]`, whose
    `get(principal, id)` says who may read; `errors` are the problems it may raise."""
    record_id = Annotated[str, Path(alias=f"{record}_id")]

    async def read(id_: record_id, read: Read, service: service) -> Any:
        return read.answer(public.of(service.get(read.principal, id_)))

    router.get(
        f"/{{{record}_id}}",
        response_model=public,
        name=f"get_{record}",
        responses=problems(*errors),
    )(read)


def soft_delete_routes(
    router: APIRouter, record: str, service: Any, public: type[PublicRecord]
) -> None:
    """`DELETE /{<record>_id}` (204) and `POST /{<record>_id}/restore` (the record, with its ETag)
    on `router`, named `delete_<record>` and `restore_<record>`. `service` is the function's
    `Annotated[XService, Depends(service(…))]`, whose `delete` and `restore` do the work."""
    path = f"/{{{record}_id}}"
    record_id = Annotated[str, Path(alias=f"{record}_id")]

    async def delete(id_: record_id, write: Write, service: service) -> Response:
        service.delete(write.principal, id_, write.if_match)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    async def restore(id_: record_id, write: Write, service: service) -> Any:
        return write.answer(public.of(service.restore(write.principal, id_, write.if_match)))

    errors = problems(Conflict, Forbidden, NotFound)
    router.delete(
        path, status_code=status.HTTP_204_NO_CONTENT, name=f"delete_{record}", responses=errors
    )(delete)
    router.post(
        f"{path}/restore", response_model=public, name=f"restore_{record}", responses=errors
    )(restore)
