"""What an operator sees of a request: its EMF metric lines on stdout and its structured log
records, captured in-process (the metric lines as CloudWatch would receive them)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from todo_common import logs, metrics
from todo_common.logs import logger


@dataclass(frozen=True)
class MetricPoint:
    """One metric of one EMF document: its values, unit, namespace and dimension sets."""

    name: str
    values: list[float]
    unit: str
    namespace: str
    dimensions: dict[str, str]
    dimension_sets: list[list[str]]


class EmfLines:
    """The EMF documents written to stdout since the last `take()`."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def take(self) -> list[MetricPoint]:
        points = []
        for line in self._capsys.readouterr().out.splitlines():
            if not line.startswith("{"):
                continue
            document = json.loads(line)
            if "_aws" not in document:
                continue
            for definition in document["_aws"]["CloudWatchMetrics"]:
                names = {name for group in definition["Dimensions"] for name in group}
                for metric in definition["Metrics"]:
                    raw = document[metric["Name"]]
                    points.append(
                        MetricPoint(
                            name=metric["Name"],
                            values=[float(v) for v in (raw if isinstance(raw, list) else [raw])],
                            unit=metric["Unit"],
                            namespace=definition["Namespace"],
                            dimensions={name: document[name] for name in names},
                            dimension_sets=definition["Dimensions"],
                        )
                    )
        return points

    def named(self, name: str) -> list[MetricPoint]:
        return [point for point in self.take() if point.name == name]


@pytest.fixture
def emf(capsys: pytest.CaptureFixture[str]) -> Iterator[EmfLines]:
    """Metrics as EMF JSON (as in Lambda), starting from nothing pending or captured."""
    metrics.render_readable(False)
    metrics.flush()  # what earlier tests left pending outside a handler
    lines = EmfLines(capsys)
    lines.take()
    yield lines
    metrics.render_readable(logs.READABLE)


class LogRecords(logging.Handler):
    """Every record the Powertools logger writes, as the JSON document Lambda would log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        formatter = logger.registered_formatter
        assert isinstance(formatter, LambdaPowertoolsFormatter)  # the text one renders its JSON
        text = LambdaPowertoolsFormatter.format(formatter, record)
        self.records.append(json.loads(text))

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("message") == message]


@pytest.fixture
def log_records() -> Iterator[LogRecords]:
    """The logger's records at INFO and above for the test's duration."""
    handler = LogRecords()
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.handlers.remove(handler)
        logger.setLevel(level)
