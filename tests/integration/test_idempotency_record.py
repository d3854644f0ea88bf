"""What an `Idempotency-Key` leaves in Redis: never the body, nor a hash anyone could recompute."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import redis

from todo_common.idempotency import IdempotentCreates

pytestmark = pytest.mark.integration

BODY = {"username": "keeper", "email": "keeper@example.com", "password": "a-secret-pass-1"}
RESPONSE = {"status": 201, "body": {"id": "u1"}, "headers": {"Location": "/users/u1"}}


def test_given_a_create_with_a_password_then_the_record_holds_a_keyed_mac_not_the_body(
    redis_client: redis.Redis,
) -> None:
    store = IdempotentCreates(redis_client, secret_key="s" * 48)

    store.run(caller="u0", operation="POST /users", key="k1", body=BODY, create=lambda: RESPONSE)

    [name] = redis_client.keys("idempotency:*")
    raw = str(redis_client.get(name))
    record: dict[str, Any] = json.loads(raw)
    assert "a-secret-pass-1" not in raw
    plain = json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode()
    assert record["payload"] not in {
        hashlib.sha256(plain).hexdigest(),
        hashlib.md5(plain).hexdigest(),  # noqa: S324 - what a plain record would hold
    }
    assert record["response"] == RESPONSE
    assert 0 < int(redis_client.ttl(name)) <= 24 * 60 * 60


def test_given_another_secret_key_then_the_same_body_does_not_match(
    redis_client: redis.Redis,
) -> None:
    IdempotentCreates(redis_client, secret_key="a" * 48).run(
        caller="u0", operation="POST /users", key="k2", body=BODY, create=lambda: RESPONSE
    )
    replay = IdempotentCreates(redis_client, secret_key="a" * 48).run(
        caller="u0", operation="POST /users", key="k2", body=BODY, create=lambda: {}
    )
    assert replay == RESPONSE | {"replayed": True}

    with pytest.raises(Exception, match="different request body"):
        IdempotentCreates(redis_client, secret_key="b" * 48).run(
            caller="u0", operation="POST /users", key="k2", body=BODY, create=lambda: {}
        )
