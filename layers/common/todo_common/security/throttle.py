"""Login throttling: a budget of password checks per account and address, and one per address.

Budgets (SPEC §4, docs/decisions.md "Login throttling"), each a fixed window that opens with its
first attempt:
- per (email, client address): `login_max_failures` password checks (5 per 15 minutes); a
  successful login clears it;
- per client address, across emails: `login_max_failures_per_address` failed checks (100 per
  15 minutes), so trying a new email on every request does not escape the first budget.

An attempt is *reserved* before the password is checked, in one Redis round trip (a Lua script,
atomic on the server), so parallel guesses cannot all slip past a count that is only read
first. A success gives the address its unit back. Each attempt tells the client where the pair
stands (`RateLimit: "login";r=…;t=…`, reported through `context.report_quota`). A refused
attempt is not counted; it reports whether it is the first refusal of the pair in its window,
so the audit trail records one `LOGIN_FAILED_THROTTLED` per (email, address, window) rather
than one per request.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import redis

from todo_common.context import Quota, report_quota
from todo_common.errors import TooManyRequests

LOGIN_POLICY = "login"

# KEYS: pair counter, address counter, "refusal recorded" marker of the pair.
# ARGV: pair limit, address limit, window seconds.
# Returns {0, the pair's checks in its window, seconds left} when the attempt is reserved, or
# {1, seconds left, first refusal (0|1)}.
_RESERVE = """
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
local key = nil
if pair >= tonumber(ARGV[1]) then key = KEYS[1]
elseif address >= tonumber(ARGV[2]) then key = KEYS[2] end
if key then
  local ttl = redis.call('TTL', key)
  if ttl < 1 then ttl = 1 end
  local first = redis.call('SET', KEYS[3], '1', 'NX', 'EX', ttl)
  return {1, ttl, first and 1 or 0}
end
local checks = redis.call('INCR', KEYS[1])
if checks == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {0, checks, redis.call('TTL', KEYS[1])}
"""

# KEYS: pair counter, address counter, marker. Clears the pair, gives the address its unit back.
_SUCCEED = """
redis.call('DEL', KEYS[1], KEYS[3])
local left = redis.call('DECR', KEYS[2])
if left <= 0 then redis.call('DEL', KEYS[2]) end
return left
"""


class LoginThrottled(TooManyRequests):
    """A 429 for a throttled login; `first_in_window` says whether to record it in the trail."""

    def __init__(self, retry_after: int, *, first_in_window: bool) -> None:
        super().__init__(
            "Too many failed login attempts; try again later", retry_after=max(retry_after, 1)
        )
        self.first_in_window = first_in_window


class _Keys(NamedTuple):
    pair: str
    address: str
    refused: str

    def all(self) -> list[str]:
        return [self.pair, self.address, self.refused]


class LoginThrottle:
    def __init__(
        self,
        client: redis.Redis,
        max_failures: int,
        window_seconds: int,
        max_failures_per_address: int,
    ) -> None:
        self._redis = client
        self._max = max_failures
        self._max_per_address = max_failures_per_address
        self._window = window_seconds
        self._reserve = client.register_script(_RESERVE)
        self._succeed = client.register_script(_SUCCEED)

    @staticmethod
    def _keys(email: str, client_ip: str) -> _Keys:
        # Hashed so neither the address nor the email sits in Redis key names in clear.
        pair = hashlib.sha256(f"{email.lower()}|{client_ip}".encode()).hexdigest()
        address = hashlib.sha256(client_ip.encode()).hexdigest()
        return _Keys(
            pair=f"login-failures:{pair}",
            address=f"login-failures-address:{address}",
            refused=f"login-refused:{pair}",
        )

    def reserve(self, email: str, client_ip: str) -> None:
        """Count one password check for the pair and the address, or raise `LoginThrottled`."""
        keys = self._keys(email, client_ip)
        refused, *figures = (
            int(n)
            for n in self._reserve(
                keys=keys.all(), args=[self._max, self._max_per_address, self._window]
            )
        )
        if refused:
            wait, first = figures
            self._report(0, wait)
            raise LoginThrottled(wait, first_in_window=bool(first))
        checks, seconds_left = figures
        self._report(self._max - checks, seconds_left)

    def succeeded(self, email: str, client_ip: str) -> None:
        """The password was right: the pair starts afresh and the address gets its unit back."""
        self._succeed(keys=self._keys(email, client_ip).all())
        self._report(self._max, self._window)

    def _report(self, remaining: int, reset: int) -> None:
        report_quota(Quota(LOGIN_POLICY, self._max, self._window, max(remaining, 0), max(reset, 1)))
