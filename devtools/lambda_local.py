"""Running a function's Lambda handler on this machine, as API Gateway and Lambda would run it.

The one place for what the local gateway (`make dev`) and its worker, the OpenAPI build, the
tests and the benchmarks all need: a function's code loaded from its CodeUri, the route
`template.yaml` gives a request, the HTTP API (payload 2.0) event API Gateway would send for it,
the context Lambda passes (`todo_common.local_context`, shared with the SnapStart warm-up), and
the proxy result read back as HTTP.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode

from devtools.template import FunctionDef, Route, Template, load_template
from todo_common.local_context import ACCOUNT_ID, REGION, LocalContext

# The layer's, named here too: what runs a handler locally comes from this module.
__all__ = ["ACCOUNT_ID", "REGION", "LocalContext"]

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
API_ID = "local"
LOOPBACK = "127.0.0.1"

Handler = Callable[[dict[str, Any], Any], Any]
HttpResult = tuple[int, list[tuple[str, str]], bytes]

# Bodies API Gateway passes as text; any other body is base64-encoded in the event.
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/problem+json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)


@cache
def project_template() -> Template:
    """This repository's `template.yaml`, read once."""
    return load_template(TEMPLATE)


# -- the function's code ----------------------------------------------------------------------

_modules: dict[tuple[str, Path], ModuleType] = {}
_loading = threading.Lock()


def function_module(fn: FunctionDef) -> ModuleType:
    """The module of a function's handler, imported once per function (each Lambda function has
    an environment of its own) under a module name of its own: every function's file is
    called `app.py`, so a plain import would mix them up."""
    module_name = fn.handler.rpartition(".")[0]
    source = fn.code_uri / f"{module_name.replace('.', '/')}.py"
    with _loading:
        if (fn.logical_id, source) not in _modules:
            spec = importlib.util.spec_from_file_location(f"lambda_{fn.logical_id}", source)
            if spec is None or spec.loader is None:
                raise RuntimeError(f"cannot load {source} for {fn.logical_id}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # pydantic resolves generic models through it
            spec.loader.exec_module(module)
            _modules[fn.logical_id, source] = module
        return _modules[fn.logical_id, source]


def load_handler(fn: FunctionDef) -> Handler:
    """A function's handler (its template `Handler`, e.g. `relay.handler`)."""
    handler: Handler = getattr(function_module(fn), fn.handler.rpartition(".")[2])
    return handler


def function_at(folder: str, handler: str = "app.handler") -> FunctionDef:
    """The function of this repository's `template.yaml` whose code is `functions/<folder>/`
    and whose `Handler` is `handler` (the audit consumer and relay share one folder)."""
    for fn in project_template().functions.values():
        if fn.code_uri == ROOT / "functions" / folder and fn.handler == handler:
            return fn
    raise LookupError(f"template.yaml has no function with functions/{folder}/ and {handler}")


def handler_at(folder: str, handler: str = "app.handler") -> Handler:
    """The handler of `function_at(folder, handler)`."""
    return load_handler(function_at(folder, handler))


def context_of(fn: FunctionDef) -> LocalContext:
    """The context of one invocation of `fn`, with its template timeout and memory."""
    return LocalContext(fn.logical_id, fn.timeout, fn.memory_size)


# -- the route --------------------------------------------------------------------------------


def default_route(function: str) -> Route:
    """The `$default` route, which API Gateway sends what no other route matches."""
    return Route(
        method="ANY", path="$default", function=function, pattern=re.compile(""), specificity=(0, 0)
    )


def match_route(template: Template, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route of `method path` and its path parameters, else the `$default` route, else None.

    The template's routes are sorted most specific first, as API Gateway prefers them."""
    for route in template.routes:
        if route.method not in (method, "ANY"):
            continue
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    if template.default_route is not None:
        return default_route(template.default_route), {}
    return None


# -- the event --------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    """The `Authorization` header of a bearer token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as it reaches API Gateway: header names in lower case, in order."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = LOOPBACK

    @classmethod
    def of(
        cls,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        declare_length: bool = True,
    ) -> HttpRequest:
        """A client's request: a bearer `token`, a `json` body (or raw `body` bytes, JSON by
        default) with its `content-length` unless `declare_length` is false (a chunked body)."""
        sent = {"host": "localhost"}
        sent |= {name.lower(): value for name, value in (headers or {}).items()}
        if token is not None:
            sent["authorization"] = bearer(token)["Authorization"]
        if json is not None:
            body = _json_bytes(json)
        if body is not None:
            sent.setdefault("content-type", "application/json")
            if declare_length:
                sent["content-length"] = str(len(body))
        return cls(method, path, urlencode(query or {}), tuple(sent.items()), body or b"")

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name), "")

    def event(self, template: Template | None = None) -> dict[str, Any]:
        """The event of this request on the route `template` (this repository's by default)
        gives it, or on the `$default` route where none does."""
        matched = match_route(template or project_template(), self.method, self.path)
        route, path_params = matched or (default_route(""), {})
        return http_event(self, route, path_params)


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data).encode()


def is_text(content_type: str) -> bool:
    return content_type.startswith(_TEXT_TYPES) or "json" in content_type


def is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def http_event(request: HttpRequest, route: Route, path_params: dict[str, str]) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for `request` on `route`.

    Repeated headers and query parameters are joined with commas and cookies given apart, as
    API Gateway does; a body is text unless its type is not, or it is no UTF-8 (base64 then)."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    body = request.body
    binary = bool(body) and not (is_text(merged.get("content-type", "")) and is_utf8(body))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
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
    # API Gateway leaves out the keys a request has no value for.
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_params:
        event["pathParameters"] = path_params
    if body:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode("utf-8")
    return event


# -- the result -------------------------------------------------------------------------------


def proxy_response(result: Any) -> HttpResult:
    """A Lambda proxy result (payload 2.0) as the status, headers and body a client gets."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0 infers a 200 JSON response from any other return value.
        return 200, [("content-type", "application/json")], _json_bytes(result)
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name).lower(), str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body
