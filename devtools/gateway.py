"""A local API Gateway (HTTP API, payload format 2.0) for `make dev` and the end-to-end tests.

Each HTTP request is matched against the routes in `template.yaml` (a request no route matches
goes to the `$default` route's function, as in API Gateway), turned into the event API Gateway
would send, and handed to the function's real Lambda handler with a Lambda-like context. The
handler's proxy response becomes the HTTP response. There is no authorizer: each function checks
the bearer token and its session itself (todo_common.http.deps), so every token problem is the
function's `401` problem+json with `WWW-Authenticate`.
"""

from __future__ import annotations

import asyncio
import json
import re
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from devtools.lambda_local import (
    Handler,
    HttpRequest,
    HttpResult,
    context_of,
    http_event,
    is_text,
    is_utf8,
    load_handler,
    match_route,
    proxy_response,
)
from devtools.template import FunctionDef, Route, Template, load_template

ASGIReceive = Callable[[], Any]
ASGISend = Callable[[dict[str, Any]], Any]


class LocalGateway:
    def __init__(self, template: Template, loader: Callable[[FunctionDef], Handler] = load_handler):
        self._template = template
        self._loader = loader
        self._handlers: dict[str, Handler] = {}
        # Handlers run in worker threads, each with an event loop of its own as in a Lambda
        # container (Mangum drives the ASGI app on the current thread's loop).
        self._executor = ThreadPoolExecutor(max_workers=32, initializer=_thread_event_loop)

    @classmethod
    def from_file(cls, path: Path) -> LocalGateway:
        return cls(load_template(path))

    def handler(self, logical_id: str) -> Handler:
        if logical_id not in self._handlers:
            self._handlers[logical_id] = self._loader(self._template.functions[logical_id])
        return self._handlers[logical_id]

    def warm_up(self) -> None:
        for logical_id in self._template.functions:
            if (
                any(r.function == logical_id for r in self._template.routes)
                or self._template.default_route == logical_id
            ):
                self.handler(logical_id)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route of `method path`, else the `$default` route, else None."""
        return match_route(self._template, method, path)

    # -- the request path ---------------------------------------------------------------------

    def invoke(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> HttpResult:
        """Serve one HTTP request the way API Gateway would; returns status, headers, body."""
        matched = self.match(method, path)
        if matched is None:
            return _gateway_problem(
                404, "Not Found", f"No route for {method} {path}", path, headers
            )
        route, path_params = matched
        request = HttpRequest(method, path, query, tuple(headers), body, source_ip)
        if body and is_text(request.header("content-type")) and not is_utf8(body):
            # API Gateway passes text bodies as strings; it does not repair broken bytes.
            return _gateway_problem(
                400, "Bad Request", "The request body is not valid UTF-8", path, headers
            )
        event = http_event(request, route, path_params)
        fn = self._template.functions[route.function]
        try:
            result = self.handler(route.function)(event, context_of(fn))
        except Exception:  # a crashed function is API Gateway's plain 500
            traceback.print_exc()
            return _gateway_error(500, "Internal Server Error")
        return proxy_response(result)

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        client = scope.get("client") or ("127.0.0.1", 0)
        status, out_headers, body = await asyncio.get_running_loop().run_in_executor(
            self._executor,
            self.invoke,
            scope["method"],
            scope["path"],
            scope["query_string"].decode("latin-1"),
            headers,
            b"".join(chunks),
            client[0],
        )
        if not any(name == "content-length" for name, _ in out_headers):
            out_headers.append(("content-length", str(len(body))))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out_headers],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _thread_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


def _gateway_problem(
    status: int, title: str, detail: str, path: str, headers: list[tuple[str, str]]
) -> HttpResult:
    """A refusal of the gateway itself, as RFC 9457 problem+json like the functions' own, with
    the request's id (SPEC §6: in every error): the one sent, if well-formed, else a new one."""
    sent = next((value for name, value in headers if name.lower() == "x-request-id"), "")
    request_id = sent if _SAFE_REQUEST_ID.match(sent) else str(uuid.uuid4())
    problem = {
        "type": f"https://todo-api.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
        "requestId": request_id,
    }
    response_headers = [("content-type", "application/problem+json"), ("x-request-id", request_id)]
    return status, response_headers, json.dumps(problem).encode()


# The ids the functions echo (`todo_common.http.middleware`); others are replaced.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _gateway_error(status: int, message: str) -> HttpResult:
    return status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
