"""Request context for every function: `X-Request-Id`, the `RateLimit` headers, the 64 KiB body
limit, a last-resort 500, and the request's one summary log line.

A plain ASGI middleware (no BaseHTTPMiddleware), so it adds no task or copy per request.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_common import context, tracing
from todo_common.context import Quota
from todo_common.errors import PayloadTooLarge
from todo_common.http.problems import internal_error_response, problem_response
from todo_common.logs import logger

MAX_BODY_BYTES = 64 * 1024
REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class _BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body parsing passes it on as it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, PayloadTooLarge(limit).detail)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        sent_id = headers.get(REQUEST_ID_HEADER, "")
        request_id = sent_id if _SAFE_REQUEST_ID.match(sent_id) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        logger.set_correlation_id(request_id)
        tracing.annotate(request_id=request_id)
        path = scope.get("path", "")

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(path, request_id, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        started = False
        status = 500
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                    *rate_limit_headers(met.values()),
                ]
            await send(message)

        token = context.request_id.set(request_id)  # for the audit events of this request
        met: dict[str, Quota] = {}  # the quotas the request meets, reported by the services
        quotas_token = context.quotas.set(met)
        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            if not started:
                await self._too_large(path, request_id, send)
        except Exception:
            logger.exception("Unhandled error")
            if not started:
                await internal_error_response(path, request_id)(scope, receive, send_with_id)
        finally:
            context.request_id.reset(token)
            context.quotas.reset(quotas_token)
            _handled(scope, status, began)

    async def _too_large(self, path: str, request_id: str, send: Send) -> None:
        error = PayloadTooLarge(self.max_body_bytes)
        response = problem_response(
            status=error.status,
            title=error.title,
            detail=error.detail,
            slug=error.slug,
            instance=path,
            request_id=request_id,
            headers={"X-Request-Id": request_id},
        )
        await response({"type": "http"}, _empty_receive, send)


def rate_limit_headers(quotas: Iterable[Quota]) -> list[tuple[bytes, bytes]]:
    """`RateLimit-Policy` and `RateLimit` for the quotas a request met, as structured fields
    (draft-ietf-httpapi-ratelimit-headers): `"default";q=600;w=60` and `"default";r=599;t=60`."""
    met = list(quotas)
    if not met:
        return []
    policies = ", ".join(f'"{q.policy}";q={q.limit};w={q.window}' for q in met)
    states = ", ".join(f'"{q.policy}";r={q.remaining};t={q.reset}' for q in met)
    return [(b"ratelimit-policy", policies.encode()), (b"ratelimit", states.encode())]


def _handled(scope: Scope, status: int, began: float) -> None:
    """One line per request, the one Logs Insights reads for latency and status per route
    (docs/operations.md). `route` is the matched route's template (`/tasks/{task_id}`), never
    the path with its ids; `apigw_request_id` joins it to the HTTP API's access log."""
    route = scope.get("route")
    event = scope.get("aws.event") or {}
    logger.info(
        "Request handled",
        extra={
            "method": scope.get("method"),
            "route": getattr(route, "path", "(unrouted)"),
            "status": status,
            "duration_ms": round((time.perf_counter() - began) * 1000, 2),
            "apigw_request_id": (event.get("requestContext") or {}).get("requestId"),
        },
    )


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}
