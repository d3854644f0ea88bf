"""One Powertools Logger per process.

In Lambda: structured JSON to stdout (CloudWatch keeps and rotates it). Locally, `LOG_FORMAT`
(text, json or csv), `LOG_HANDLERS` (console and/or file), `LOG_FILE`, `LOG_ROTATION`,
`LOG_RETENTION` and `LOG_DATE_FORMAT` shape it. Bodies, tokens and passwords are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from todo_common.settings import get_settings

_FIXED = ("timestamp", "level", "correlation_id", "location", "message")


class _FlatFormatter(LambdaPowertoolsFormatter):
    """Powertools' record, rendered as one text line or one CSV row instead of JSON."""

    def __init__(self, style: str, datefmt: str) -> None:
        super().__init__(datefmt=datefmt)
        self._output = style

    def format(self, record: logging.LogRecord) -> str:
        data = json.loads(super().format(record))
        fixed = [str(data.pop(key, "")) for key in _FIXED]
        for noise in ("service", "sampling_rate", "xray_trace_id"):
            data.pop(noise, None)
        extra = " ".join(f"{k}={v}" for k, v in data.items())
        if self._output == "csv":
            import csv  # noqa: PLC0415 - local formats only: never on a Lambda cold start
            import io  # noqa: PLC0415

            out = io.StringIO()
            csv.writer(out).writerow([*fixed, extra])
            return out.getvalue().rstrip("\r\n")
        timestamp, level, correlation, location, message = fixed
        return (
            f"{timestamp} {level:<7} [{correlation or '-'}] {location} {message} {extra}".rstrip()
        )


def _build() -> tuple[Logger, bool]:
    """The logger, and whether its lines are meant for people (text or csv) rather than JSON."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "todo-api")
    in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in os.environ and "TODO_LOCAL_GATEWAY" not in os.environ
    settings = get_settings().log
    readable = not in_lambda and settings.format != "json"
    if in_lambda or (settings.format == "json" and "file" not in settings.handlers):
        return Logger(service=service, level=settings.level), readable
    formatter = (
        LambdaPowertoolsFormatter(datefmt=settings.date_format)
        if settings.format == "json"
        else _FlatFormatter(settings.format, settings.date_format)
    )
    handlers: list[logging.Handler] = []
    if "console" in settings.handlers:
        handlers.append(logging.StreamHandler(sys.stdout))
    if "file" in settings.handlers and settings.file:
        # Imported here: logging.handlers (and pickle, queue, socket with it) costs ~7 ms of a
        # cold start, and Lambda logs to stdout only.
        from logging.handlers import TimedRotatingFileHandler  # noqa: PLC0415

        handlers.append(
            TimedRotatingFileHandler(
                settings.file,
                when=settings.rotation,
                backupCount=settings.retention,
                encoding="utf-8",
            )
        )
    log = Logger(
        service=service,
        level=settings.level,
        logger_formatter=formatter,
        logger_handler=handlers[0] if handlers else logging.NullHandler(),
    )
    for extra_handler in handlers[1:]:
        extra_handler.setFormatter(formatter)
        log.addHandler(extra_handler)
    return log, readable


logger, READABLE = _build()
"""`READABLE`: local text or csv logs, where metrics are written as log lines, not EMF JSON."""


@contextmanager
def correlated(request_id: str | None) -> Iterator[None]:
    """Log lines of this thread within the block carry `request_id` as their correlation id: the
    audit sender thread, the relay and the consumer work on events of other requests, so one
    Logs Insights query on a request id finds them too."""
    logger.thread_safe_append_keys(correlation_id=request_id)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(["correlation_id"])
