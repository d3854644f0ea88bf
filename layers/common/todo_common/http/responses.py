"""Response helpers: ETags on single resources, 201 with Location, idempotent replays."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from todo_common.idempotency import StoredResponse


def etag(version: int) -> str:
    return f'"{version}"'


def with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def created(model: BaseModel, location: str, version: int) -> StoredResponse:
    """What a create returns and what an idempotent retry replays."""
    return {
        "status": 201,
        "body": model.model_dump(mode="json", by_alias=True),
        "headers": {"Location": location, "ETag": etag(version)},
    }


def to_response(stored: StoredResponse) -> JSONResponse:
    headers: dict[str, Any] = dict(stored["headers"])
    if stored.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(stored["body"], status_code=stored["status"], headers=headers)
