"""X-Ray traces through Powertools Tracer, when the function is traced (template.yaml).

A traced invocation has a `## handler` subsegment annotated with the request id and the caller's
user id, and one subsegment per MongoDB command, Redis command or pipeline and SQS call,
annotated with the operation and the collection, key prefix or queue: never a value.

Tracing is off locally, in tests and in stages without it: `POWERTOOLS_TRACE_DISABLED=true`
(template Globals), or not in a Lambda runtime. Then no Tracer is built and the X-Ray SDK (and
botocore with it: ~10 ms of INIT from the built layer's bytecode, ~0.2 s from sources) is never
loaded; every function here returns at once. When on, the Tracer is
built at import, during INIT (before a SnapStart snapshot), not on the first request.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

# The class only (imported with Powertools' Logger anyway); building one loads the X-Ray SDK.
from aws_lambda_powertools import Tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.tracing.base import BaseProvider

R = TypeVar("R")
_TRUTHY = frozenset({"1", "y", "yes", "t", "true", "on"})
_NOTHING: AbstractContextManager[None] = nullcontext()


def wanted() -> bool:
    """Powertools' own rule (`Tracer._is_tracer_disabled`), read without importing the SDK: on in
    a Lambda runtime unless POWERTOOLS_TRACE_DISABLED; off under SAM local and make dev."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in _TRUTHY:
        return False
    local = any(os.environ.get(name) for name in ("AWS_SAM_LOCAL", "TODO_LOCAL_GATEWAY"))
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not local


class _State:
    # auto_patch off: patching botocore would import it on every cold start; the clients here
    # open their own subsegments (MongoDB command listener, Redis client class, SQS send).
    tracer: Tracer | None = Tracer(auto_patch=False) if wanted() else None
    captured: ClassVar[dict[Callable[..., Any], Callable[..., Any]]] = {}


def enabled() -> bool:
    return _State.tracer is not None


def use(provider: BaseProvider | None) -> None:
    """Trace through `provider` from now on (tests), or stop tracing with None."""
    _State.tracer = (
        None if provider is None else Tracer(provider=provider, disabled=False, auto_patch=False)
    )
    _State.captured.clear()


def run_handler(handler: Callable[[Any, Any], R], event: Any, context: Any) -> R:
    """Call `handler` inside a `## <its name>` subsegment, recording neither its response
    (tokens) nor its error; just call it when tracing is off."""
    tracer = _State.tracer
    if tracer is None:
        return handler(event, context)
    captured = _State.captured.get(handler)
    if captured is None:
        captured = tracer.capture_lambda_handler(
            handler, capture_response=False, capture_error=False
        )
        _State.captured[handler] = captured
    return cast("R", captured(event, context))


def annotate(**annotations: str) -> None:
    """Annotate the current (sub)segment: searchable in X-Ray (`annotation.request_id = "…"`)."""
    tracer = _State.tracer
    if tracer is None:
        return
    for key, value in annotations.items():
        tracer.put_annotation(key=key, value=value)


def subsegment(name: str, **annotations: str) -> AbstractContextManager[Any]:
    """A subsegment around a call to a dependency; a shared no-op when tracing is off."""
    tracer = _State.tracer
    if tracer is None:
        return _NOTHING
    return _annotated(tracer.provider, name, annotations)


def open_subsegment(name: str, **annotations: str) -> Callable[[], None] | None:
    """Begin a subsegment and return what ends it (for callbacks such as pymongo's command
    listener, which see the start and the end of a call apart); None when tracing is off."""
    tracer = _State.tracer
    if tracer is None:
        return None
    stack = contextlib.ExitStack()
    stack.enter_context(_annotated(tracer.provider, name, annotations))
    return stack.close


@contextlib.contextmanager
def _annotated(provider: BaseProvider, name: str, annotations: dict[str, str]) -> Iterator[Any]:
    with provider.in_subsegment(name=name) as segment:
        for key, value in annotations.items():
            segment.put_annotation(key, value)
        yield segment


def key_prefix(key: object) -> str:
    """What a Redis key is (`session`, `login-failures`), never which one: the part before ':'."""
    text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
    prefix, colon, _ = text.partition(":")
    return prefix if colon else "-"
