"""`Idempotency-Key` for creates, on Powertools' idempotency utility with its Redis persistence.

The key is scoped to the caller and the operation; the request body is the validated payload, so
the same key with another body is refused (422), and a retry within 24 h gets the stored response
back, marked `Idempotent-Replayed: true`, without creating anything. A retry that arrives while the
first request is still running gets 409 and may try again a moment later.

What is compared is a keyed fingerprint of the body (HMAC-SHA256 under a key derived from
`SECURITY_SECRET_KEY`), never the body or a plain hash of it: a `POST /users` body holds a
password, and an unkeyed MD5 of it in Redis could be tested offline at MD5 speed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, cast

import redis
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.cache import (
    CacheClientProtocol,
    CachePersistenceLayer,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from todo_common.errors import Conflict, FieldError, InvalidInput, ServiceUnavailable

KEY_TTL_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255

StoredResponse = dict[str, Any]  # {"status": int, "body": ..., "headers": {...}}


class _RedisStore(CachePersistenceLayer):
    """Powertools' Redis layer, keeping the payload hash when a record completes.

    Its `_update_record` (3.37) rewrites the record without the validation hash, so every replay
    of a completed request would fail payload validation. Remove once fixed upstream; the
    idempotency tests catch either way.
    """

    def _update_record(self, data_record: DataRecord) -> None:
        mapping: dict[str, Any] = {
            self.data_attr: data_record.response_data,
            self.status_attr: data_record.status,
            self.expiry_attr: data_record.expiry_timestamp,
        }
        if self.payload_validation_enabled:
            mapping[self.validation_key_attr] = data_record.payload_hash
        self.client.set(
            name=data_record.idempotency_key,
            value=self._json_serializer(mapping),
            ex=self._get_expiry_second(data_record.expiry_timestamp),
        )


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "replayed": True}


class IdempotentCreates:
    def __init__(self, client: redis.Redis, secret_key: str) -> None:
        # A key of its own, so the fingerprint says nothing about the token-signing key.
        self._fingerprint_key = hmac.digest(secret_key.encode(), b"idempotency-body", "sha256")
        self._store = _RedisStore(client=cast("CacheClientProtocol", client))
        self._config = IdempotencyConfig(
            event_key_jmespath="[caller, operation, key]",
            payload_validation_jmespath="body",
            expires_after_seconds=KEY_TTL_SECONDS,
            raise_on_no_idempotency_key=True,
            response_hook=_mark_replayed,
        )

    def run(
        self,
        *,
        caller: str,
        operation: str,
        key: str,
        body: dict[str, Any],
        create: Callable[[], StoredResponse],
        lambda_context: LambdaContext | None = None,
    ) -> StoredResponse:
        """Run `create` once per (caller, operation, key); replay its stored response afterwards."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                [FieldError(("header", "Idempotency-Key"), "invalid length")],
            )
        if lambda_context is not None:
            # Bounds the in-progress lock by the invocation's remaining time, so a crashed
            # invocation does not block retries for 24 h.
            self._config.register_lambda_context(lambda_context)

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request",
            persistence_store=self._store,
            config=self._config,
            key_prefix="idempotency",
        )
        def once(request: dict[str, Any]) -> StoredResponse:
            return create()

        try:
            result: StoredResponse = once(
                request={
                    "caller": caller,
                    "operation": operation,
                    "key": key,
                    "body": self._fingerprint(body),
                }
            )
        except IdempotencyValidationError as exc:
            raise InvalidInput(
                "This Idempotency-Key was already used with a different request body",
                [FieldError(("header", "Idempotency-Key"), "reused with another body")],
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict(
                "A request with this Idempotency-Key is still in progress; retry shortly"
            ) from exc
        except IdempotencyPersistenceLayerError as exc:
            raise ServiceUnavailable("Redis") from exc
        return result

    def _fingerprint(self, body: dict[str, Any]) -> str:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self._fingerprint_key, canonical.encode(), hashlib.sha256).hexdigest()
