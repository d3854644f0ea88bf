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


# --- the reports function, whose routes are not /<collection>/{id} ---------------------------


class ReportsApi(FunctionApi):
    """The reports function: `/audits`, `/audits/{id}` and the `/reports/...` routes of
    `template.yaml`, each event carrying its own route key and `id` path parameter."""

    def __init__(self) -> None:
        super().__init__("reports")

    @staticmethod
    def build(method: str, path: str, **parts: Any) -> Request:
        request = UsersApi.build(method, path, **parts)
        request.route, request.path_params = reports_route_of(path)
        return request


def reports_route_of(path: str) -> tuple[str, dict[str, str]]:
    parts = path.strip("/").split("/")
    if parts[0] == "reports" and len(parts) == 4:  # /reports/{projects|users}/{id}/<report>
        return f"/reports/{parts[1]}/{{id}}/{parts[3]}", {"id": parts[2]}
    if parts[0] == "reports" or path in ("/audits/verify", "/audits/digests"):
        return path, {}
    return collection_route_of(path)


# --- the audit queue: SQS events as SAM shapes them, and the scheduled relay ------------------
# (imported here, not at the top, to keep this file append-only for concurrent edits)

import hashlib  # noqa: E402
import os  # noqa: E402
from collections.abc import Sequence  # noqa: E402

import boto3  # noqa: E402

SQS_EVENT_FIXTURE = ROOT / "tests" / "fixtures" / "events" / "sqs-receive-message.json"
SCHEDULED_EVENT_FIXTURE = ROOT / "tests" / "fixtures" / "events" / "scheduled-event.json"
DLQ_NAME = "todo-audit-dlq"


def load_function_entry(name: str, attribute: str) -> Handler:
    """Another entry point of `functions/<name>/app.py`, e.g. the audit relay's `relay_handler`."""
    load_function(name)
    module = sys.modules[f"lambda_function_under_test_{name}"]
    return cast("Handler", getattr(module, attribute))


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """SAM's sample SQS event (`sam local generate-event sqs receive-message`) with one record
    per message, each message as `receive_message` returns it (MessageId, ReceiptHandle, Body)."""
    sample: dict[str, Any] = json.loads(SQS_EVENT_FIXTURE.read_text())["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(sample)
        record["messageId"] = message["MessageId"]
        record["receiptHandle"] = message["ReceiptHandle"]
        record["body"] = message["Body"]
        record["md5OfBody"] = hashlib.md5(message["Body"].encode()).hexdigest()  # noqa: S324
        record["attributes"] |= {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
        record["eventSourceARN"] = queue_arn
        records.append(record)
    return {"Records": records}


def scheduled_event() -> dict[str, Any]:
    """SAM's sample EventBridge schedule event (what invokes the outbox relay every minute)."""
    event: dict[str, Any] = json.loads(SCHEDULED_EVENT_FIXTURE.read_text())
    return event


@dataclass(frozen=True)
class Delivery:
    """One batch handed to the consumer: what it received and which records it reported failed."""

    message_ids: list[str]
    bodies: list[str]
    failed_ids: set[str]
    receive_counts: dict[str, int]


class AuditQueue:
    """The local audit queue (`AUDIT_QUEUE_URL`, on moto) and its dead-letter queue."""

    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.url = os.environ["AUDIT_QUEUE_URL"]
        self.dlq_url = self.sqs.get_queue_url(QueueName=DLQ_NAME)["QueueUrl"]
        self.arn = f"arn:aws:sqs:us-east-1:123456789012:{self.url.rsplit('/', 1)[-1]}"

    def empty(self) -> None:
        """Delete every visible message of both queues, then check nothing is left in flight.

        Not `purge_queue`: moto's server allows one purge per queue per 60 seconds (its strict
        purge mode is on by default), which a suite of short tests exceeds.
        """
        container.audit_trail().flush()  # an earlier test's events may still be on their way
        for url in (self.url, self.dlq_url):
            while messages := self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
            ).get("Messages", []):
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(messages)
                    ],
                )
        assert self.waiting() == 0, "messages of an earlier test are still in flight"
        assert self.waiting(dlq=True) == 0

    def send(self, body: str) -> str:
        return self.sqs.send_message(QueueUrl=self.url, MessageBody=body)["MessageId"]

    def receive(self, *, dlq: bool = False, visibility_timeout: int = 60) -> list[dict[str, Any]]:
        container.audit_trail().flush()  # events this process wrote are sent in the background
        """Up to 10 messages (with their receive count); `visibility_timeout=0` leaves them
        visible, so a message reported failed can be received again at once."""
        messages = self.sqs.receive_message(
            QueueUrl=self.dlq_url if dlq else self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_timeout,
            AttributeNames=["All"],
        ).get("Messages", [])
        return [dict(m) for m in messages]

    def deliver(self, handler: Handler, *, visibility_timeout: int = 60) -> Delivery:
        """Receive one batch, invoke the consumer with it as Lambda's event source mapping does,
        and delete only the messages it did not report failed (`ReportBatchItemFailures`)."""
        messages = self.receive(visibility_timeout=visibility_timeout)
        if not messages:
            return Delivery([], [], set(), {})
        result = handler(sqs_event(messages, self.arn), FakeLambdaContext("audit_consumer"))
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
                ],
            )
        return Delivery(
            [m["MessageId"] for m in messages],
            [m["Body"] for m in messages],
            failed,
            {m["MessageId"]: int(m["Attributes"]["ApproximateReceiveCount"]) for m in messages},
        )

    def waiting(self, *, dlq: bool = False) -> int:
        """Messages in the queue (or the DLQ), visible or not."""
        container.audit_trail().flush()
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.dlq_url if dlq else self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


# --- tokens without a login (whose audit event would land among the records a test counts) ---

from todo_common import container  # noqa: E402
from todo_common.records import User  # noqa: E402
from todo_common.security.sessions import SessionStore  # noqa: E402


def session_token(user: User) -> str:
    """An access token of a session opened as a login opens one, minus the LOGIN audit event."""
    sid = SessionStore.new_id()
    pair = container.token_service().issue_pair(user.id, user.role.value, sid)
    container.session_store().create(
        sid, user.id, user.role.value, pair.refresh_jti, pair.refresh_expires_in
    )
    return pair.access_token
