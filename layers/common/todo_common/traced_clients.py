"""Subsegments for every MongoDB command and Redis call; imported only when tracing is on.

What is recorded: the operation (`find`, `HGETALL`, `EVALSHA`, a pipeline's command names) and
the collection or the key's prefix (`session`, `login-failures`). Filters, documents, keys and
values never are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import redis
from pymongo import monitoring
from redis.client import Pipeline

from todo_common import tracing

# Commands whose first argument is no key (a script's text has colons of its own).
_KEYLESS = frozenset({"PING", "SCRIPT LOAD", "SCRIPT EXISTS", "SCRIPT FLUSH", "INFO", "FLUSHDB"})
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


class MongoCommandTracer(monitoring.CommandListener):
    """One subsegment per command, from its start to its reply or failure."""

    def __init__(self) -> None:
        self._open: dict[int, Callable[[], None]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        collection = event.command.get("collection" if name == "getMore" else name)
        annotations = {"operation": name}
        if isinstance(collection, str) and _NAME.match(collection):
            annotations["collection"] = collection
        end = tracing.open_subsegment(f"MongoDB {name}", **annotations)
        if end is not None:
            self._open[event.request_id] = end

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._end(event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._end(event.request_id)

    def _end(self, request_id: int) -> None:
        end = self._open.pop(request_id, None)
        if end is not None:
            end()


def _first_key(args: tuple[Any, ...]) -> str:
    command = str(args[0]).upper()
    if command in _KEYLESS:
        return "-"
    if command in ("EVALSHA", "EVAL"):
        return tracing.key_prefix(args[3]) if len(args) > 3 and int(args[2]) > 0 else "-"
    return _checked(tracing.key_prefix(args[1])) if len(args) > 1 else "-"


def _checked(prefix: str) -> str:
    return prefix if _NAME.match(prefix) else "-"


class TracedRedis(redis.Redis):
    """redis.Redis with a subsegment per command, and per pipeline (not per buffered command)."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        command = str(args[0])
        with tracing.subsegment(f"Redis {command}", operation=command, key_prefix=_first_key(args)):
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        return TracedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class TracedPipeline(Pipeline):
    def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = [args for args, _ in self.command_stack]
        # The attribute, which the class's `transaction()` method hides from type checkers.
        operation = "MULTI" if vars(self).get("transaction") else "PIPELINE"
        with tracing.subsegment(
            f"Redis {operation}",
            operation=operation,
            commands=",".join(str(args[0]) for args in stack),
            key_prefix=_first_key(stack[0]) if stack else "-",
        ):
            return super().execute(raise_on_error)
