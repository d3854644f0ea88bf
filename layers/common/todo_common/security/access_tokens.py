"""Personal access tokens (issue 21.1): their value, what is stored of it, and the Redis side of
using one (docs/decisions.md "Personal access tokens").

A token is `todo_pat_` and 43 base64url characters: 32 random bytes (256 bits). The fixed prefix
lets secret scanners find a leaked one (`todo_pat_[A-Za-z0-9_-]{43}`, README). Only its SHA-256
(hex) is stored: for 256 random bits a fast hash is enough, since nobody can search the space a
slow hash would protect.

Every presented `todo_pat_` value first *reserves* a unit of its client address's budget of
failed lookups (one Redis round trip, a Lua script, so a flood in parallel cannot pass a count
that is only read first); a lookup that finds a usable token gives the unit back in the same
round trip that counts the request against the token's rate budget (`use`). What is refused
(unknown, malformed, revoked, expired, its owner inactive) keeps its unit: past the budget, 429.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import NamedTuple

import redis

from todo_common.context import Quota, report_quota
from todo_common.errors import TooManyRequests
from todo_common.security.rate_limit import RequestBudget

PREFIX = "todo_pat_"
RANDOM_BYTES = 32
# What a secret scanner looks for, and the only form a lookup is tried for.
PATTERN = re.compile(r"^todo_pat_[A-Za-z0-9_-]{43}$")
LOOKUP_POLICY = "token-lookup"


def new_token() -> str:
    """A fresh token value, shown to its owner once."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(RANDOM_BYTES)).rstrip(b"=").decode()
    return PREFIX + raw


def token_hash(token: str) -> str:
    """What is stored of a token, and what it is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_access_token(bearer: str) -> bool:
    """Whether a bearer credential claims to be an access token (a JWT never starts so)."""
    return bearer.startswith(PREFIX)


def well_formed(token: str) -> bool:
    return PATTERN.match(token) is not None


# KEYS: the address's failed-lookup counter. ARGV: limit, window seconds.
# Returns {0, 0} when a unit is reserved, {1, seconds left} when the budget is spent.
_RESERVE = """
local failed = tonumber(redis.call('GET', KEYS[1]) or '0')
if failed >= tonumber(ARGV[1]) then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 1 then ttl = 1 end
  return {1, ttl}
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {0, 0}
"""

# KEYS: the address's failed-lookup counter, the token's rate counter. ARGV: rate window seconds.
# Gives the reserved unit back and counts the request: {requests in the window, seconds left}.
_USE = """
if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
local used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1])) end
return {used, redis.call('TTL', KEYS[2])}
"""


class TokenLookupsThrottled(TooManyRequests):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed access token lookups from this address; try again later",
            retry_after,
        )


class TokenUse(NamedTuple):
    """A request's count in its token's rate window, which ends in `resets_in` seconds."""

    used: int
    resets_in: int


class TokenLookups:
    """The per-address budget of failed lookups, and the per-token request count."""

    def __init__(self, client: redis.Redis, max_failures: int, window_seconds: int) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._reserve = client.register_script(_RESERVE)
        self._use = client.register_script(_USE)

    @staticmethod
    def _address_key(client_ip: str) -> str:
        # Hashed, as the login throttle's: no client address in clear in a Redis key name.
        return f"token-failures-address:{hashlib.sha256(client_ip.encode()).hexdigest()}"

    @staticmethod
    def rate_key(budget: RequestBudget, token_id: str) -> str:
        return budget.key(f"pat:{token_id}")

    def reserve(self, client_ip: str) -> None:
        """Count a lookup from `client_ip` as failed until `use` says otherwise; raise
        `TokenLookupsThrottled` when the address has no failures left in its window."""
        refused, wait = (
            int(n)
            for n in self._reserve(
                keys=[self._address_key(client_ip)], args=[self._max, self._window]
            )
        )
        if refused:
            report_quota(Quota(LOOKUP_POLICY, self._max, self._window, 0, wait))
            raise TokenLookupsThrottled(wait)

    def use(self, client_ip: str, token_id: str, budget: RequestBudget) -> TokenUse:
        """The lookup found a usable token: give the address its unit back and count the
        request against the token's budget, in one round trip."""
        used, resets_in = self._use(
            keys=[self._address_key(client_ip), self.rate_key(budget, token_id)],
            args=[budget.window_seconds],
        )
        return TokenUse(int(used), int(resets_in))
