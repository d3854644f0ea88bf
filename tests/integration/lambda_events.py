"""Calling a function's real Lambda handler the way API Gateway and Lambda call it.

The events, their routes (from `template.yaml`), the contexts and the loading of the functions
are `devtools.lambda_local`'s, the ones the local gateway uses. Here is what tests add: a
response to assert on, one API object per function, the audit queue, and invocations each in a
thread with its own event loop, as Mangum calls `asyncio.get_event_loop()`: this keeps the main
thread's loop out of it and lets tests invoke the handler from many threads at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3

from devtools.lambda_local import (
    ROOT,
    Handler,
    HttpRequest,
    context_of,
    function_at,
    load_handler,
    proxy_response,
)
from devtools.worker import sqs_event
from todo_common import container
from todo_common.records import User
from todo_common.security.sessions import SessionStore

__all__ = ["ROOT", "Handler"]  # imported from here by the tests, as before

PROBLEM_JSON = "application/problem+json"
DLQ_NAME = "todo-audit-dlq"


@dataclass(frozen=True)
class LambdaResponse:
    """A payload 2.0 proxy result, as API Gateway hands it to a client."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, result: Mapping[str, Any]) -> LambdaResponse:
        status, headers, body = proxy_response(result)
        return cls(status, dict(headers), body)

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


class FunctionApi:
    """One HTTP function of `template.yaml` (`functions/<folder>/`), spoken to the way API
    Gateway speaks to it: each event carries the route the template gives its request."""

    def __init__(self, folder: str) -> None:
        self.fn = function_at(folder)
        self.handler = load_handler(self.fn)

    def request(self, method: str, path: str, **parts: Any) -> LambdaResponse:
        """Invoke with the request of `HttpRequest.of(method, path, **parts)`: a token, a json or
        raw body, headers, a query."""
        return self.invoke(HttpRequest.of(method, path, **parts))

    def invoke(self, request: HttpRequest) -> LambdaResponse:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(self.invoke_in_this_thread, request).result()

    def invoke_in_this_thread(self, request: HttpRequest) -> LambdaResponse:
        """Invoke from the calling thread, which must not have an event loop of its own in use."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return LambdaResponse.of(self.handler(request.event(), context_of(self.fn)))
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class UsersApi(FunctionApi):
    """The users function, with a login."""

    def __init__(self) -> None:
        super().__init__("users")

    def login(self, email: str, password: str) -> dict[str, Any]:
        response = self.request("POST", "/auth/login", json={"email": email, "password": password})
        assert response.status == 200, response.body
        tokens: dict[str, Any] = response.json()
        return tokens

    def token_for(self, email: str, password: str) -> str:
        return str(self.login(email, password)["access_token"])


class ReportsApi(FunctionApi):
    """The reports function: the audit trail's read API and the reports."""

    def __init__(self) -> None:
        super().__init__("reports")


# --- the audit queue, delivered to the consumer as Lambda's event source mapping does ---------


@dataclass(frozen=True)
class Delivery:
    """One batch handed to the consumer: what it received and which records it reported failed."""

    message_ids: list[str]
    bodies: list[str]
    failed_ids: set[str]
    receive_counts: dict[str, int]


class AuditQueue:
    """The local audit queue (`AUDIT_QUEUE_URL`, on moto) and its dead-letter queue."""

    def __init__(self, url: str | None = None, dlq_url: str | None = None) -> None:
        self.sqs = boto3.client("sqs")
        self.url = url or os.environ["AUDIT_QUEUE_URL"]
        self.dlq_url = dlq_url or self.sqs.get_queue_url(QueueName=DLQ_NAME)["QueueUrl"]
        self.arn = f"arn:aws:sqs:us-east-1:123456789012:{self.url.rsplit('/', 1)[-1]}"

    @classmethod
    def of_its_own(cls) -> AuditQueue:
        """A new queue and DLQ, redriven after 3 receives as `scripts/servers.py` makes them.

        A test's own: a gateway that another test started (its worker consumes the shared
        audit queue) cannot take the messages this test sends."""
        sqs = boto3.client("sqs")
        name = f"todo-audit-{uuid.uuid4().hex[:12]}"
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
        url = sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": json.dumps(policy), "VisibilityTimeout": "60"},
        )["QueueUrl"]
        return cls(url, dlq_url)

    def delete(self) -> None:
        for url in (self.url, self.dlq_url):
            self.sqs.delete_queue(QueueUrl=url)

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
        """Up to 10 messages (with their receive count); `visibility_timeout=0` leaves them
        visible, so a message reported failed can be received again at once."""
        container.audit_trail().flush()  # events this process wrote are sent in the background
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
        consumer = function_at("audit_consumer")
        result = handler(sqs_event(messages, self.arn), context_of(consumer))
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


def session_token(user: User) -> str:
    """An access token of a session opened as a login opens one, minus the LOGIN audit event."""
    sid = SessionStore.new_id()
    pair = container.token_service().issue_pair(user.id, user.role.value, sid)
    container.session_store().create(
        sid, user.id, user.role.value, pair.refresh_jti, pair.refresh_expires_in
    )
    return pair.access_token
