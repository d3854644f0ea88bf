"""The one app factory: every function's FastAPI app is built here, then gets its routes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, FastAPI
from mangum import Mangum

from todo_common.http.health import router as health_router
from todo_common.http.middleware import RequestContextMiddleware
from todo_common.http.problems import register_problem_handlers
from todo_common.logs import logger
from todo_common.settings import get_settings

# Bodies Mangum returns as text rather than base64 (problem+json included).
TEXT_MIME_TYPES = [
    "text/",
    "application/json",
    "application/problem+json",
    "application/javascript",
    "application/xml",
    "application/vnd.oai.openapi",
]
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def create_app(*, title: str, routers: Sequence[APIRouter], summary: str | None = None) -> FastAPI:
    """A FastAPI app with the shared middleware, error handlers and `/health`."""
    settings = get_settings().app
    app = FastAPI(
        title=f"{settings.name} — {title}",
        summary=summary,
        description=settings.description,
        version=settings.version,
        # One document for the whole API, served by the docs function: no per-function pages.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        debug=False,  # tracebacks never reach a client, APP_DEBUG or not
    )
    app.add_middleware(RequestContextMiddleware)
    register_problem_handlers(app)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    return app


def lambda_handler(app: FastAPI) -> LambdaHandler:
    """The Lambda entry point for `app`: API Gateway HTTP API (payload 2.0) events via Mangum."""
    adapter = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return adapter(event, context)  # type: ignore[arg-type]

    return handler
