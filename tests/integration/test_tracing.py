"""Traces (issue 13): with tracing on, a request is a `## api_handler` subsegment annotated with
its request id and caller, holding one subsegment per MongoDB command, Redis command or pipeline,
and SQS send, annotated with the operation and the collection, key prefix or queue; never a value.

Powertools Tracer runs here with a recording provider in place of the X-Ray recorder (the
tracer's provider interface); `tests/lambda_runtime`-free, against the real local servers.
`test_tracing_xray.py` checks the same through the real X-Ray SDK and a stub daemon.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_project, make_user
from tests.integration.lambda_events import FunctionApi, UsersApi
from todo_common import container, tracing
from todo_common.clients import get_mongo_client, get_redis
from todo_common.principal import Role

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]


@dataclass
class Recorded(BaseSegment):
    name: str
    parent: str | None
    thread: str
    annotations: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[key] = value

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class RecordingProvider(BaseProvider):
    """Keeps every subsegment, its parent and its annotations, per thread as X-Ray does."""

    def __init__(self) -> None:
        self.segments: list[Recorded] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def _stack(self) -> list[Recorded]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        stack: list[Recorded] = self._local.stack
        return stack

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[Recorded]:
        stack = self._stack()
        segment = Recorded(
            str(name), stack[-1].name if stack else None, threading.current_thread().name
        )
        with self._lock:
            self.segments.append(segment)
        stack.append(segment)
        try:
            yield segment
        finally:
            stack.pop()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncIterator[Recorded]:
        with self.in_subsegment(name) as segment:
            yield segment

    def put_annotation(self, key: str, value: Any) -> None:
        self._stack()[-1].put_annotation(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._stack()[-1].put_metadata(key, value)

    def patch(self, modules: Sequence[str]) -> None:
        raise AssertionError("no module is patched: the clients open their own subsegments")

    def patch_all(self) -> None:
        raise AssertionError("no module is patched")

    def named(self, prefix: str) -> list[Recorded]:
        return [s for s in self.segments if s.name.startswith(prefix)]


def _rebuild_clients() -> None:
    """New clients on next use (the test's `db` keeps the one it holds, left open)."""
    container.reset()
    get_mongo_client.cache_clear()
    get_redis.cache_clear()


@pytest.fixture
def traced(clean: None) -> Iterator[RecordingProvider]:
    provider = RecordingProvider()
    tracing.use(provider)
    _rebuild_clients()  # the clients take their tracing hooks when they are built
    yield provider
    tracing.use(None)
    _rebuild_clients()


def test_a_traced_request_annotates_its_handler_and_records_each_dependency_call(
    db: Db, traced: RecordingProvider
) -> None:
    manager = make_user(db, role=Role.MANAGER)
    project = make_project(db, manager)
    token = UsersApi().token_for(manager.email, DEFAULT_PASSWORD)
    traced.segments.clear()

    response = FunctionApi("tasks").request(
        "POST",
        "/tasks",
        token=token,
        json={"projectId": project.id, "description": "Secret plans"},
        headers={"X-Request-Id": "trace-me-1"},
    )
    container.audit_trail().flush()

    assert response.status == 201, response.body
    (handler,) = traced.named("## ")
    assert handler.name == "## api_handler"
    assert handler.annotations["request_id"] == "trace-me-1"
    assert handler.annotations["user_id"] == manager.id
    assert "ColdStart" in handler.annotations
    assert handler.metadata == {}  # neither the response (it may hold tokens) nor errors

    mongo = traced.named("MongoDB ")
    assert ("insert", "tasks") in {
        (s.annotations["operation"], s.annotations.get("collection")) for s in mongo
    }
    assert ("find", "projects") in {
        (s.annotations["operation"], s.annotations.get("collection")) for s in mongo
    }
    assert all(s.parent == "## api_handler" for s in mongo if s.thread == handler.thread)

    redis_calls = traced.named("Redis ")
    assert {"session"} <= {s.annotations["key_prefix"] for s in redis_calls}
    assert all(s.annotations["operation"] for s in redis_calls)

    (send,) = traced.named("SQS ")
    assert send.annotations == {"operation": "SendMessage", "queue": send.annotations["queue"]}
    assert send.annotations["queue"].startswith("todo-audit")

    values = " ".join(str(v) for s in traced.segments for v in s.annotations.values())
    assert "Secret plans" not in values
    assert project.id not in values  # ids in filters and documents stay out too
    assert token not in values


def test_a_login_traces_its_redis_scripts_and_pipelines_by_key_prefix_only(
    db: Db, traced: RecordingProvider
) -> None:
    user = make_user(db)

    UsersApi().login(user.email, DEFAULT_PASSWORD)

    redis_calls = traced.named("Redis ")
    operations = {s.annotations["operation"] for s in redis_calls}
    assert "EVALSHA" in operations  # the login throttle's script
    assert "MULTI" in operations  # the session's creation
    prefixes = {s.annotations["key_prefix"] for s in redis_calls}
    assert "login-failures" in prefixes
    values = " ".join(str(v) for s in redis_calls for v in s.annotations.values())
    assert user.email not in values
    assert "127.0.0.1" not in values  # the throttle's keys hold the client address


def test_with_tracing_off_nothing_is_recorded_and_no_client_is_instrumented(
    db: Db, clean: None
) -> None:
    assert not tracing.enabled()
    assert type(get_redis()).__name__ == "Redis"
    assert get_mongo_client().options.event_listeners == []
