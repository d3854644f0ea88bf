"""The one app factory: every function's FastAPI app is built here, then gets its routes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from mangum import Mangum

from todo_common import instrument, snapstart
from todo_common.http.health import router as health_router
from todo_common.http.middleware import RequestContextMiddleware
from todo_common.http.problems import register_problem_handlers
from todo_common.local_context import LocalContext
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


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(*, title: str, routers: Sequence[APIRouter], summary: str | None = None) -> FastAPI:
    """A FastAPI app with the shared middleware, error handlers and `/health`.

    The functions' routes are `async def` on purpose, though the services block: one request
    per Lambda container means nothing else waits on the event loop, and sync routes would add a
    thread hop per request."""
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
        # operationId = the route function's name (`create_task`), unique across the API (a test
        # says so): what generated clients name their calls and OpenAPI links point at.
        generate_unique_id_function=_operation_id,
    )
    app.add_middleware(RequestContextMiddleware)
    register_problem_handlers(app)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    if any(_protected(route) for router in routers for route in router.routes):
        # A function that checks tokens refuses to start without its keys (SPEC §4); the docs
        # function, which is given none, starts without them.
        _verifies_tokens()
    app.openapi = _documented(app)  # type: ignore[method-assign]
    return app


def _verifies_tokens() -> None:
    """Refuse to start without token keys; read their public keys before the SnapStart snapshot
    (without SnapStart, the first request reads them: INIT stays free of boto3)."""
    security = get_settings().security
    if not security.verify_key_ids():
        raise ValueError(
            "SECURITY_JWT_VERIFY_KEY_IDS is not set: a function with protected routes needs the "
            "KMS key ids whose tokens it accepts (docs/deploy.md)"
        )
    from todo_common.security.keys import verifying_keys  # noqa: PLC0415

    snapstart.register(before=lambda: verifying_keys(security.verify_key_ids()))


def _protected(route: object) -> bool:
    """Whether a route asks for the bearer token (a dependency is a security scheme)."""
    return isinstance(route, APIRoute) and _uses_security(route.dependant)


def _uses_security(dependant: Dependant) -> bool:
    return isinstance(dependant.call, SecurityBase) or any(
        _uses_security(sub) for sub in dependant.dependencies
    )


def _documented(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`: every status, header and link each route can give (`http/documentation`),
    built on first use only (Lambda never builds it; `make openapi` does)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from todo_common.http.documentation import openapi_document  # noqa: PLC0415

            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    return openapi


def lambda_handler(app: FastAPI, *, warm_up: snapstart.Step | None = None) -> LambdaHandler:
    """The Lambda entry point for `app`: API Gateway HTTP API (payload 2.0) events via Mangum.

    Before a SnapStart snapshot, one request that touches no dependency (an unrouted path, 404)
    runs through the whole stack, and `warm_up` builds what the function's own routes need.
    """
    adapter = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

    def api_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return adapter(event, context)  # type: ignore[arg-type]

    handler = logger.inject_lambda_context(clear_state=True)(instrument.lambda_entry(api_handler))
    # The warm-up request is no invocation: no trace (there is none before a snapshot), and the
    # environment's ColdStart is left to its first real request.
    warm_up_request = logger.inject_lambda_context(clear_state=True)(api_handler)

    def before_snapshot() -> None:
        if warm_up is not None:
            warm_up()
        warm_up_request(_WARM_UP_EVENT, _snapshot_context())  # type: ignore[arg-type]

    snapstart.register(before=before_snapshot)
    return handler


_WARM_UP_EVENT: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/__snapshot__",
    "rawQueryString": "",
    "headers": {"host": "localhost", "x-request-id": "snapshot-warm-up"},
    "requestContext": {
        "accountId": "000000000000",
        "apiId": "snapshot",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "http": {
            "method": "GET",
            "path": "/__snapshot__",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "snapshot",
        },
        "requestId": "snapshot-warm-up",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": 0,
    },
    "isBase64Encoded": False,
}


def _snapshot_context() -> LocalContext:
    """The context of the warm-up request, which no runtime invocation carries."""
    return LocalContext(
        "snapshot-warm-up",
        memory_limit_in_mb=128,
        account_id="000000000000",
        aws_request_id="snapshot-warm-up",
        log_stream_name="snapshot-warm-up",
    )
