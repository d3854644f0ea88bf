"""`GET /health`: public; 200 when MongoDB and Redis answer, 503 naming what is down."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from todo_common.clients import get_database, get_redis

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    mongo: str
    redis: str


def _check(probe: str) -> str:
    try:
        if probe == "mongo":
            get_database().command("ping")
        else:
            get_redis().ping()
    except Exception:  # any failure means "down" to a health check
        return "down"
    return "ok"


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "A dependency is down"}},
)
def health() -> JSONResponse:
    checks = {"mongo": _check("mongo"), "redis": _check("redis")}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    headers = None if healthy else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if healthy else 503, headers=headers)
