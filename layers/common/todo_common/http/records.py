"""One record over HTTP (SPEC §6), the shape every route on users, projects and tasks shares.

A route takes one of these dependencies instead of repeating the caller, the `If-Match`, the
`Idempotency-Key` and the response in its signature:

- `Read`: who asks; `answer(model)` sends the record with its version as the `ETag`;
- `Write`: the same, plus the version the caller read (`If-Match`, `None` for none or `*`);
- `Create`: who asks, the `Idempotency-Key` and the route (`POST /things`); `respond(...)` runs
  the create at most once per key and answers `201` with `Location` and `ETag`.

A route still names its service call (`service.update(write.principal, …)`): the OpenAPI
document reads the errors a route can answer from those calls (`http/documentation.py`).
The soft delete and its restore are the same two routes for every record: `soft_delete_routes`.

No `from __future__ import annotations` here: FastAPI and the OpenAPI document read the
annotations of `soft_delete_routes`' endpoints, which name its arguments, not module globals.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from todo_common.http.deps import CurrentPrincipal, IdempotencyKey, IfMatch, LambdaCtx
from todo_common.http.responses import CreatedRecord, create_response, created, with_etag
from todo_common.principal import Principal


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


@dataclass(frozen=True)
class RecordRead:
    principal: Principal
    response: Response

    def answer(self, model: V) -> V:
        """`model` as the answer, its version as the response's `ETag`."""
        with_etag(self.response, model.version)
        return model


@dataclass(frozen=True)
class RecordWrite(RecordRead):
    if_match: int | None


@dataclass(frozen=True)
class RecordCreate:
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


async def record_read(principal: CurrentPrincipal, response: Response) -> RecordRead:
    return RecordRead(principal, response)


async def record_write(
    principal: CurrentPrincipal, if_match: IfMatch, response: Response
) -> RecordWrite:
    return RecordWrite(principal, response, if_match)


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


class PublicRecord(Protocol):
    """A record's public schema (`…Public`)."""

    @classmethod
    def of(cls, record: Any) -> Versioned: ...


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

    router.delete(path, status_code=status.HTTP_204_NO_CONTENT, name=f"delete_{record}")(delete)
    router.post(f"{path}/restore", response_model=public, name=f"restore_{record}")(restore)
