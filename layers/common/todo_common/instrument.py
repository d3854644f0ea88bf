"""What every Lambda entry point runs around its work: its trace, its cold start, its metrics."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from todo_common import metrics, tracing

R = TypeVar("R")


def lambda_entry(
    handler: Callable[[Any, LambdaContext], R],
) -> Callable[[Any, LambdaContext], R]:
    """`handler` in its `## handler` subsegment (when traced); `ColdStart` on the first
    invocation of the environment; the invocation's metrics written when it returns or raises.
    Goes under `logger.inject_lambda_context`, so the metric lines are logged in its context."""

    @functools.wraps(handler)
    def entry(event: Any, context: LambdaContext) -> R:
        metrics.cold_start(context.function_name)
        try:
            return tracing.run_handler(handler, event, context)
        finally:
            metrics.flush()

    return entry
