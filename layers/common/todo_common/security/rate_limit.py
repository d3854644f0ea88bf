"""The request budget of every authenticated principal (issue 21.5, docs/decisions.md).

A fixed window per principal: a Redis counter `rate:default:{sid}` that the first request of a
window creates with the window as its expiry. It is counted by the same Lua script that reads
the session (`SessionStore.use`), so a request pays one Redis round trip for both. Every
request counts, a refused one too: a client that ignores `Retry-After` does not get its budget
back any sooner.
"""

from __future__ import annotations

from typing import NamedTuple

from todo_common.context import Quota
from todo_common.errors import TooManyRequests

DEFAULT_POLICY = "default"


class RateLimited(TooManyRequests):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests for this session; try again later", retry_after)


class RequestBudget(NamedTuple):
    requests: int
    window_seconds: int
    policy: str = DEFAULT_POLICY

    def key(self, principal: str) -> str:
        """The counter of `principal` (a session id) in the current window."""
        return f"rate:{self.policy}:{principal}"

    def quota(self, used: int, resets_in: int) -> Quota:
        """Where a principal that has made `used` requests in its window stands."""
        return Quota(
            policy=self.policy,
            limit=self.requests,
            window=self.window_seconds,
            remaining=max(self.requests - used, 0),
            reset=max(resets_in, 1),
        )

    def exceeded(self, used: int) -> bool:
        return used > self.requests
