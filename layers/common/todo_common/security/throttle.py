"""Login throttling: N failures for one email from one address give 429 until the window ends.

A fixed window that opens with the first failure; a successful login clears it.
"""

from __future__ import annotations

import hashlib

import redis

from todo_common.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, client: redis.Redis, max_failures: int, window_seconds: int) -> None:
        self._redis = client
        self._max = max_failures
        self._window = window_seconds

    @staticmethod
    def _key(email: str, client_ip: str) -> str:
        # Hashed so neither the address nor the email sits in Redis key names in clear.
        digest = hashlib.sha256(f"{email.lower()}|{client_ip}".encode()).hexdigest()
        return f"login-failures:{digest}"

    def check(self, email: str, client_ip: str) -> None:
        """Raise `TooManyRequests` (with the seconds left) while the pair is locked out."""
        key = self._key(email, client_ip)
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = pipe.execute()
        if count is not None and int(count) >= self._max:
            raise TooManyRequests(
                "Too many failed login attempts; try again later", retry_after=max(int(ttl), 1)
            )

    def record_failure(self, email: str, client_ip: str) -> None:
        key = self._key(email, client_ip)
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self._window, nx=True)
        pipe.execute()

    def reset(self, email: str, client_ip: str) -> None:
        self._redis.delete(self._key(email, client_ip))
