"""Response helpers: ETags on single resources, 201 with Location, idempotent replays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from todo_common.container import idempotent_creates
from todo_common.idempotency import StoredResponse


def etag(version: int) -> str:
    return f'"{version}"'


def with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


class CreatedRecord(Protocol):
    """A record's public form (`…Public`): what a create answers with."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...

    def model_dump(self, *, mode: str, by_alias: bool) -> dict[str, Any]: ...


def created(model: CreatedRecord, collection: str) -> StoredResponse:
    """What a create returns and what an idempotent retry replays: `model` at
    `<collection>/<id>`, its version as the `ETag`."""
    return {
        "status": 201,
        "body": model.model_dump(mode="json", by_alias=True),
        "headers": {"Location": f"{collection}/{model.id}", "ETag": etag(model.version)},
    }


def to_response(stored: StoredResponse) -> JSONResponse:
    headers: dict[str, Any] = dict(stored["headers"])
    if stored.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(stored["body"], status_code=stored["status"], headers=headers)


def create_response(
    *,
    caller: str,
    operation: str,
    payload: BaseModel,
    idempotency_key: str | None,
    lambda_context: Any,
    create: Callable[[], StoredResponse],
) -> JSONResponse:
    """Run a create; with an `Idempotency-Key`, at most once per key, replaying it afterwards."""
    if idempotency_key is None:
        return to_response(create())
    return to_response(
        idempotent_creates().run(
            caller=caller,
            operation=operation,
            key=idempotency_key,
            body=payload.model_dump(mode="json"),
            create=create,
            lambda_context=lambda_context,
        )
    )
