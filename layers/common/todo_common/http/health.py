"""`GET /health`: public; 200 when MongoDB and Redis answer, 503 naming what is down; each
dependency's round trip in milliseconds (`latencyMs`, also when it failed: how long it took to)."""

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from todo_common import metrics
from todo_common.clients import get_database, get_redis
from todo_common.metrics import Dependency

router = APIRouter(tags=["health"])


class Latencies(BaseModel):
    mongo: float = Field(description="MongoDB `ping`, in milliseconds")
    redis: float = Field(description="Redis `PING`, in milliseconds")


class Health(BaseModel):
    status: str
    mongo: str
    redis: str
    latency_ms: Latencies = Field(alias="latencyMs")


def _check(probe: str) -> tuple[str, float]:
    began = time.perf_counter()
    try:
        if probe == "mongo":
            get_database().command("ping")
        else:
            get_redis().ping()
    except Exception:  # any failure means "down" to a health check
        state = "down"
        metrics.dependency_unavailable(Dependency.MONGODB if probe == "mongo" else Dependency.REDIS)
    else:
        state = "ok"
    return state, round((time.perf_counter() - began) * 1000, 2)


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "A dependency is down"}},
)
def health() -> JSONResponse:
    (mongo, mongo_ms), (redis, redis_ms) = _check("mongo"), _check("redis")
    healthy = mongo == redis == "ok"
    body = {
        "status": "ok" if healthy else "unavailable",
        "mongo": mongo,
        "redis": redis,
        "latencyMs": {"mongo": mongo_ms, "redis": redis_ms},
    }
    headers = None if healthy else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if healthy else 503, headers=headers)
