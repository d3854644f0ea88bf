"""Calling a function's real Lambda handler with API Gateway HTTP API (payload 2.0) events.

Every event starts as a copy of `tests/fixtures/events/http-api-proxy.json`, the event
`sam local generate-event apigateway http-api-proxy` writes, and changes only the request: route
key, path, query, headers, path parameters, method, body. Each invocation runs in its own thread
with its own event loop, as Mangum calls `asyncio.get_event_loop()`: this keeps the main thread's
loop out of it and lets tests invoke the handler from many threads at once.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
EVENT_FIXTURE = ROOT / "tests" / "fixtures" / "events" / "http-api-proxy.json"
PROBLEM_JSON = "application/problem+json"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@cache
def _event_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(EVENT_FIXTURE.read_text())
    return template


@cache
def load_function(name: str) -> Handler:
    """`functions/<name>/app.py`'s `handler`, imported once under a module name of its own.

    Every function's file is called `app.py`, so a plain import would mix them up.
    """
    module_name = f"lambda_function_under_test_{name}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pydantic resolves generic models through sys.modules
    spec.loader.exec_module(module)
    return cast("Handler", module.handler)


class FakeLambdaContext:
    """The parts of `LambdaContext` that Powertools and the idempotency utility read."""

    def __init__(self, function_name: str = "users") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2024/01/01/[$LATEST]test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass(frozen=True)
class LambdaResponse:
    """A payload 2.0 proxy result, with the body decoded as API Gateway would for a client."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, result: Mapping[str, Any]) -> LambdaResponse:
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        return cls(int(result["statusCode"]), headers, body)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body, after checking that the response is one."""
        assert self.content_type.startswith(PROBLEM_JSON), (self.status, self.content_type)
        body: dict[str, Any] = self.json()
        assert body["status"] == self.status
        assert set(body) >= {"type", "title", "status", "detail", "instance", "requestId"}
        return body


@dataclass
class Request:
    method: str
    path: str
    route: str | None = None  # the template's route path, e.g. /users/{id}
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    declare_length: bool = True

    def event(self) -> dict[str, Any]:
        """The fixture event with this request's parts swapped in, and nothing else changed."""
        event = copy.deepcopy(_event_template())
        route_key = f"{self.method} {self.route or self.path}"
        query = urlencode(self.query)
        headers = {"host": event["requestContext"]["domainName"]}
        headers |= {name.lower(): value for name, value in self.headers.items()}
        if self.body is not None and self.declare_length:
            headers["content-length"] = str(len(self.body))
        event["routeKey"] = route_key
        event["rawPath"] = self.path
        event["rawQueryString"] = query
        event["headers"] = headers
        event["requestContext"]["http"]["method"] = self.method
        event["requestContext"]["http"]["path"] = self.path
        # API Gateway leaves out the keys a request has no value for.
        if self.query:
            event["queryStringParameters"] = dict(self.query)
        else:
            del event["queryStringParameters"]
        if self.path_params:
            event["pathParameters"] = dict(self.path_params)
        else:
            del event["pathParameters"]
        if self.body is None:
            del event["body"]
            event["isBase64Encoded"] = False
        else:
            # Text arrives as it is; other bytes base64-encoded, as API Gateway sends them.
            try:
                event["body"] = self.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(self.body).decode()
                event["isBase64Encoded"] = True
        return event


def _invoke_on_own_loop(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return handler(event, FakeLambdaContext())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def invoke_in_this_thread(handler: Handler, request: Request) -> LambdaResponse:
    """Invoke from the calling thread, which must not have an event loop of its own in use."""
    return LambdaResponse.of(_invoke_on_own_loop(handler, request.event()))


def invoke(handler: Handler, request: Request) -> LambdaResponse:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(invoke_in_this_thread, handler, request).result()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def json_body(data: Any) -> bytes:
    return json.dumps(data).encode()


class UsersApi:
    """The users function, spoken to the way API Gateway speaks to it."""

    def __init__(self) -> None:
        self.handler = load_function("users")

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        declare_length: bool = True,
    ) -> LambdaResponse:
        return invoke(
            self.handler,
            self.build(
                method,
                path,
                token=token,
                json=json,
                body=body,
                headers=headers,
                query=query,
                declare_length=declare_length,
            ),
        )

    @staticmethod
    def build(
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        declare_length: bool = True,
    ) -> Request:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers |= bearer(token)
        if json is not None:
            body = json_body(json)
        if body is not None:
            all_headers.setdefault("content-type", "application/json")
        route, params = _route_of(path)
        return Request(
            method=method,
            path=path,
            route=route,
            path_params=params,
            query=dict(query or {}),
            headers=all_headers,
            body=body,
            declare_length=declare_length,
        )

    def login(self, email: str, password: str) -> dict[str, Any]:
        response = self.request("POST", "/auth/login", json={"email": email, "password": password})
        assert response.status == 200, response.body
        tokens: dict[str, Any] = response.json()
        return tokens

    def token_for(self, email: str, password: str) -> str:
        return str(self.login(email, password)["access_token"])


def _route_of(path: str) -> tuple[str, dict[str, str]]:
    """The `template.yaml` route a users path matches, and its path parameters."""
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "users" and parts[1] != "me":
        route = "/users/{id}" + ("/" + "/".join(parts[2:]) if len(parts) > 2 else "")
        return route, {"id": parts[1]}
    return path, {}


class FunctionApi:
    """Another function (projects, tasks), spoken to as `UsersApi` speaks to users.

    Its routes are `/<collection>`, `/<collection>/{id}` and `/<collection>/{id}/<action>`, as
    in `template.yaml`; the event carries that route key and the `id` path parameter.
    """

    def __init__(self, name: str) -> None:
        self.handler = load_function(name)

    def request(self, method: str, path: str, **parts: Any) -> LambdaResponse:
        """Invoke with the keyword parts `UsersApi.build` takes (token, json, body, headers...)."""
        return invoke(self.handler, self.build(method, path, **parts))

    @staticmethod
    def build(method: str, path: str, **parts: Any) -> Request:
        request = UsersApi.build(method, path, **parts)
        request.route, request.path_params = collection_route_of(path)
        return request


def collection_route_of(path: str) -> tuple[str, dict[str, str]]:
    """The `template.yaml` route of a `/<collection>/{id}[/<action>]` path, and its parameters."""
    parts = path.strip("/").split("/")
    if len(parts) < 2:
        return path, {}
    route = f"/{parts[0]}/{{id}}" + "".join(f"/{part}" for part in parts[2:])
    return route, {"id": parts[1]}
