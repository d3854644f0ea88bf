"""Per-request values that are not arguments of every service call (set by the middleware)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import NamedTuple

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class Quota(NamedTuple):
    """Where a request stands in one rate-limit policy: `limit` units per `window` seconds,
    `remaining` of them left, the window ending in `reset` seconds."""

    policy: str
    limit: int
    window: int
    remaining: int
    reset: int


# The quotas this request met, by policy: the middleware puts a fresh dict here before the app
# runs and writes them as `RateLimit` headers when the response starts. A mutable dict, so that
# what a dependency run in another context (a copy) reports still reaches the middleware.
quotas: ContextVar[dict[str, Quota] | None] = ContextVar("quotas", default=None)


def report_quota(quota: Quota) -> None:
    """Tell the client of this request about `quota` (a later report of a policy replaces it)."""
    met = quotas.get()
    if met is not None:
        met[quota.policy] = quota
