"""Business and health metrics: CloudWatch embedded metric format (EMF) lines on stdout.

Powertools' EMF provider builds and validates each document; CloudWatch Logs turns the lines into
metrics, so a metric costs no API call and no wait. Namespace `POWERTOOLS_METRICS_NAMESPACE`
(template.yaml: `TodoApi/<stage>`), dimension `service` (`POWERTOOLS_SERVICE_NAME`: the function).

- `count` and `observe` add to the invocation's document, written once when the handler returns
  (`flush`, called by `instrument.lambda_entry`);
- `count_by` is written at once, with a dimension of its own (a login failure's reason, the
  dependency that is down), both beside `service` and alone, so that an alarm sums one metric per
  value whichever function emitted it. It also serves threads that outlive the invocation.

Locally with `LOG_FORMAT=text` (or csv) a document is one readable log line instead of JSON.
"""

from __future__ import annotations

import json
import os
import threading
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from todo_common import logs

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
LOCAL_NAMESPACE = "TodoApi/local"


class Metric(StrEnum):
    COLD_START = "ColdStart"
    TASK_CREATED = "TaskCreated"
    TASK_COMPLETED = "TaskCompleted"
    LOGIN_SUCCEEDED = "LoginSucceeded"
    LOGIN_FAILED = "LoginFailed"  # dimension `reason`
    LOGIN_THROTTLED = "LoginThrottled"
    TOKEN_REUSE_DETECTED = "TokenReuseDetected"
    AUDIT_EVENTS_RECORDED = "AuditEventsRecorded"
    AUDIT_DUPLICATES_SKIPPED = "AuditDuplicatesSkipped"
    AUDIT_LAG_SECONDS = "AuditLagSeconds"  # stored with its change -> recorded by the consumer
    OUTBOX_BACKLOG = "OutboxBacklog"
    OUTBOX_OLDEST_AGE_SECONDS = "OutboxOldestAgeSeconds"
    DEPENDENCY_UNAVAILABLE = "DependencyUnavailable"  # dimension `dependency`


class Dependency(StrEnum):
    MONGODB = "MongoDB"
    REDIS = "Redis"
    SQS = "SQS"


_SECONDS = frozenset({Metric.AUDIT_LAG_SECONDS, Metric.OUTBOX_OLDEST_AGE_SECONDS})


def _unit(metric: Metric) -> str:
    return "Seconds" if metric in _SECONDS else "Count"


def _provider() -> AmazonCloudWatchEMFProvider:
    return AmazonCloudWatchEMFProvider(
        namespace=os.environ.get(NAMESPACE_ENV) or LOCAL_NAMESPACE,
        service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "todo-api",
    )


class _Emitter:
    """The invocation's pending document, and where documents go (stdout EMF, or a log line)."""

    def __init__(self) -> None:
        self.readable = logs.READABLE
        self._pending = _provider()
        self._lock = threading.Lock()  # the local gateway runs many invocations in one process
        self._cold = True

    def add(self, metric: Metric, value: float) -> None:
        with self._lock:
            self._pending.add_metric(name=metric.value, unit=_unit(metric), value=value)

    def now(self, metric: Metric, value: float, dimensions: dict[str, str]) -> None:
        provider = _provider()
        provider.add_metric(name=metric.value, unit=_unit(metric), value=value)
        for name, dimension in dimensions.items():
            provider.add_dimension(name=name, value=dimension)
        provider.add_dimensions(**dimensions)  # the same metric without `service`, for alarms
        self.write(provider.serialize_metric_set())

    def flush(self) -> None:
        with self._lock:
            if not self._pending.metric_set:
                return
            document = self._pending.serialize_metric_set()
            self._pending.clear_metrics()
        self.write(document)

    def cold_start(self, function_name: str) -> None:
        """`ColdStart` once per execution environment (and once per SnapStart restore)."""
        if not self._cold:
            return
        self._cold = False
        provider = _provider()
        provider.add_metric(name=Metric.COLD_START.value, unit="Count", value=1)
        provider.add_dimension(name="function_name", value=function_name)
        self.write(provider.serialize_metric_set())

    def restored(self) -> None:
        self._cold = True

    def write(self, document: Any) -> None:
        if self.readable:
            logs.logger.info(f"metrics {_one_line(document)}")
        else:
            print(json.dumps(document, separators=(",", ":")), flush=True)


def _one_line(document: dict[str, Any]) -> str:
    """`TaskCreated=1 Count [service=tasks]`: the values, units and dimensions of a document."""
    definition = document["_aws"]["CloudWatchMetrics"][0]
    names = {name for dimension_set in definition["Dimensions"] for name in dimension_set}
    values = " ".join(
        f"{m['Name']}={_number(document[m['Name']])} {m['Unit']}" for m in definition["Metrics"]
    )
    dimensions = " ".join(f"{name}={document[name]}" for name in sorted(names))
    return f"{values} [{dimensions}]"


def _number(values: list[float]) -> str:
    rendered = [f"{v:g}" for v in values]
    return rendered[0] if len(rendered) == 1 else ",".join(rendered)


_emitter = _Emitter()


def count(metric: Metric, value: float = 1) -> None:
    """Add to the invocation's metrics, written when the handler returns."""
    _emitter.add(metric, value)


def observe(metric: Metric, value: float) -> None:
    """One more value of a distribution (seconds), written when the handler returns."""
    _emitter.add(metric, value)


def count_by(metric: Metric, dimension: str, value: str) -> None:
    """Count one occurrence with a dimension of its own, written now."""
    _emitter.now(metric, 1, {dimension: value})


def dependency_unavailable(dependency: Dependency) -> None:
    count_by(Metric.DEPENDENCY_UNAVAILABLE, "dependency", dependency.value)


def flush() -> None:
    """Write the invocation's metrics, if it had any (end of every handler)."""
    _emitter.flush()


def cold_start(function_name: str) -> None:
    _emitter.cold_start(function_name)


def restored() -> None:
    """A SnapStart restore: the next invocation is this environment's cold start."""
    _emitter.restored()


def render_readable(readable: bool) -> None:
    """Choose log lines (True) or EMF JSON (False) regardless of the log format (tests)."""
    _emitter.readable = readable
