"""The one place where errors become RFC 9457 `application/problem+json` responses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from todo_common import metrics, secrets_manager
from todo_common.errors import DomainError, InvalidInput, ServiceUnavailable
from todo_common.logs import logger
from todo_common.metrics import Dependency

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://todo-api.dev/problems/"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


def problem_response(
    *,
    status: int,
    title: str,
    detail: str,
    slug: str,
    instance: str,
    request_id: str,
    headers: dict[str, str] | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "requestId": request_id,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def _from_domain(request: Request, exc: DomainError) -> Response:
    errors = None
    if isinstance(exc, InvalidInput):
        errors = [{"loc": list(e.loc), "msg": e.msg} for e in exc.errors]
    return problem_response(
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        slug=exc.slug,
        instance=request.url.path,
        request_id=_request_id(request),
        headers=exc.headers,
        errors=errors,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid value"))
        if err.get("type") == "json_invalid":
            msg = "Request body is not valid JSON"
        errors.append({"loc": [str(part) for part in err.get("loc", ())], "msg": msg})
    return errors


def register_problem_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every exception into a problem document."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _from_domain(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return problem_response(
            status=422,
            title=_TITLES[422],
            detail="The request is not valid",
            slug="validation-error",
            instance=request.url.path,
            request_id=_request_id(request),
            errors=_validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        return problem_response(
            status=status,
            title=_TITLES.get(status, "Error"),
            detail=str(exc.detail),
            slug=_TITLES.get(status, "error").lower().replace(" ", "-"),
            instance=request.url.path,
            request_id=_request_id(request),
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(ConnectionFailure)
    @app.exception_handler(ExecutionTimeout)
    async def mongo_down(request: Request, exc: Exception) -> Response:
        logger.warning("MongoDB unavailable", extra={"error": type(exc).__name__})
        metrics.dependency_unavailable(Dependency.MONGODB)
        return _from_domain(request, ServiceUnavailable("MongoDB"))

    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    async def redis_down(request: Request, exc: Exception) -> Response:
        logger.warning("Redis unavailable", extra={"error": type(exc).__name__})
        metrics.dependency_unavailable(Dependency.REDIS)
        return _from_domain(request, ServiceUnavailable("Redis"))

    # Credentials refused (issue 19): the secret may have been rotated since it was read, so it
    # is read again, and the next request makes its clients with the new value.
    @app.exception_handler(OperationFailure)
    async def mongo_refused(request: Request, exc: OperationFailure) -> Response:
        if exc.code != MONGO_AUTHENTICATION_FAILED:
            raise exc  # any other failure is the 500 it always was
        _reread(secrets_manager.Secret.DATABASE_URI)
        metrics.dependency_unavailable(Dependency.MONGODB)
        return _from_domain(request, ServiceUnavailable("MongoDB", retry_after=1))

    @app.exception_handler(redis.AuthenticationError)
    async def redis_refused(request: Request, exc: Exception) -> Response:
        _reread(secrets_manager.Secret.REDIS_PASSWORD)
        metrics.dependency_unavailable(Dependency.REDIS)
        return _from_domain(request, ServiceUnavailable("Redis", retry_after=1))


MONGO_AUTHENTICATION_FAILED = 18


def _reread(secret: secrets_manager.Secret) -> None:
    logger.warning("Credentials refused", extra={"secret": secret.value})
    if secrets_manager.reread_refused(secret):
        from todo_common import clients, container  # noqa: PLC0415 - only on this rare path

        container.reset()
        clients.close_clients()


def internal_error_response(path: str, request_id: str) -> Response:
    return problem_response(
        status=500,
        title=_TITLES[500],
        detail="An unexpected error occurred",
        slug="internal-error",
        instance=path,
        request_id=request_id,
    )
