"""`Idempotency-Key` for creates: a small store of our own on Redis.

The key is scoped to the caller and the operation; the request body is the validated payload, so
the same key with another body is refused (422), and a retry within 24 h gets the stored response
back, marked `Idempotent-Replayed: true`, without creating anything. A retry that arrives while the
first request is still running gets 409 and may try again a moment later. A create that fails
stores nothing: its retry runs again.

The record keeps a keyed HMAC of the body (keyed by `secrets_manager.hash_key`), never the
body nor a plain hash of it: a create-user body holds a password, and an unkeyed hash of it could
be tested against guesses by whoever reads Redis.

Why not Powertools' idempotency utility (used before): its package imports its DynamoDB layer,
and with it boto3, whichever layer is used: ~75 ms of every API function's cold start.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Callable
from typing import Any, Protocol

import redis

from todo_common.errors import Conflict, FieldError, InvalidInput, ServiceUnavailable

KEY_TTL_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255
# How long a create may hold its key when no Lambda deadline bounds it.
IN_PROGRESS_SECONDS = 60
_PREFIX = "idempotency:"
_IN_PROGRESS, _COMPLETED = "INPROGRESS", "COMPLETED"

StoredResponse = dict[str, Any]  # {"status": int, "body": ..., "headers": {...}}


class _Deadline(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


class IdempotentCreates:
    def __init__(self, client: redis.Redis, secret_key: str) -> None:  # the hash key
        self._redis = client
        # A key of its own, so the fingerprint says nothing about the token-signing key.
        self._mac_key = hmac.digest(secret_key.encode(), b"idempotency-body", "sha256")

    def run(
        self,
        *,
        caller: str,
        operation: str,
        key: str,
        body: dict[str, Any],
        create: Callable[[], StoredResponse],
        lambda_context: _Deadline | None = None,
    ) -> StoredResponse:
        """Run `create` once per (caller, operation, key); replay its stored response afterwards."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                [FieldError(("header", "Idempotency-Key"), "invalid length")],
            )
        name = _PREFIX + hashlib.sha256(_canonical([caller, operation, key])).hexdigest()
        payload = hmac.new(self._mac_key, _canonical(body), hashlib.sha256).hexdigest()
        try:
            return self._run(name, payload, create, _in_progress_seconds(lambda_context))
        except redis.RedisError as exc:
            raise ServiceUnavailable("Redis") from exc

    def _run(
        self, name: str, payload: str, create: Callable[[], StoredResponse], hold_seconds: int
    ) -> StoredResponse:
        claim = json.dumps({"status": _IN_PROGRESS, "payload": payload})
        for _ in range(3):  # a record that expires between SET NX and GET: claim again
            if self._redis.set(name, claim, nx=True, ex=hold_seconds):
                return self._create(name, payload, create)
            stored = self._redis.get(name)
            if stored is None:
                continue
            record: dict[str, Any] = json.loads(stored)
            if not hmac.compare_digest(str(record.get("payload", "")), payload):
                raise InvalidInput(
                    "This Idempotency-Key was already used with a different request body",
                    [FieldError(("header", "Idempotency-Key"), "reused with another body")],
                )
            if record.get("status") != _COMPLETED:
                break
            response: StoredResponse = record["response"]
            return {**response, "replayed": True}
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly")

    def _create(
        self, name: str, payload: str, create: Callable[[], StoredResponse]
    ) -> StoredResponse:
        try:
            response = create()
        except BaseException:
            self._redis.delete(name)  # a failure is not the answer: the retry runs again
            raise
        done = {"status": _COMPLETED, "payload": payload, "response": response}
        self._redis.set(name, json.dumps(done), ex=KEY_TTL_SECONDS)
        return response


def _in_progress_seconds(context: _Deadline | None) -> int:
    """The claim lasts the invocation's remaining time, so a crashed create frees its key."""
    if context is None:
        return IN_PROGRESS_SECONDS
    return max(1, math.ceil(context.get_remaining_time_in_millis() / 1000))
