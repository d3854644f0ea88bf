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
import base64
import importlib.util
import json
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from devtools.template import FunctionDef, Route, Template, load_template

Handler = Callable[[dict[str, Any], Any], Any]
ASGIReceive = Callable[[], Any]
ASGISend = Callable[[dict[str, Any]], Any]

API_ID = "local"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/problem+json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(fn: FunctionDef) -> Handler:
    """Import a function's handler from its CodeUri under a module name of its own."""
    module_name, _, attribute = fn.handler.rpartition(".")
    source = fn.code_uri / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"lambda_{fn.logical_id}", source)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {source} for {fn.logical_id}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, attribute)
    return handler


def _is_text(content_type: str) -> bool:
    return content_type.startswith(_TEXT_TYPES) or "json" in content_type


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
        for route in self._template.routes:
            if route.method not in (method, "ANY"):
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        if self._template.default_route is not None:
            return default_route(self._template.default_route), {}
        return None

    # -- the request path ---------------------------------------------------------------------

    def invoke(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Serve one HTTP request the way API Gateway would; returns status, headers, body."""
        matched = self.match(method, path)
        if matched is None:
            return _gateway_problem(
                404, "Not Found", f"No route for {method} {path}", path, headers
            )
        route, path_params = matched
        if body and _is_text(_content_type(headers)) and not _is_utf8(body):
            # API Gateway passes text bodies as strings; it does not repair broken bytes.
            return _gateway_problem(
                400, "Bad Request", "The request body is not valid UTF-8", path, headers
            )
        event = build_event(route, method, path, query, headers, body, source_ip, path_params)
        fn = self._template.functions[route.function]
        try:
            result = self.handler(route.function)(event, LambdaContext(fn.logical_id, fn.timeout))
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


def default_route(function: str) -> Route:
    """The `$default` route, which API Gateway sends what no other route matches."""
    return Route(
        method="ANY", path="$default", function=function, pattern=re.compile(""), specificity=(0, 0)
    )


def _thread_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


def build_event(
    route: Route,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    path_params: dict[str, str],
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for one request."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    content_type = merged.get("content-type", "")
    binary = bool(body) and not _is_text(content_type)
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": binary,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_params:
        event["pathParameters"] = path_params
    if body:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode("utf-8")
    return event


def proxy_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A Lambda proxy result (payload 2.0) as status, headers and body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0 infers a 200 JSON response from any other return value.
        return 200, [("content-type", "application/json")], json.dumps(result).encode()
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name).lower(), str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body


def _content_type(headers: list[tuple[str, str]]) -> str:
    return next((value for name, value in headers if name == "content-type"), "")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _gateway_problem(
    status: int, title: str, detail: str, path: str, headers: list[tuple[str, str]]
) -> tuple[int, list[tuple[str, str]], bytes]:
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


def _gateway_error(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
