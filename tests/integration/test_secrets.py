"""The secrets come from Secrets Manager at run time (issue 19), moto's locally, as in AWS.

`scripts/servers.py` starts Redis with a password and puts it, the database URI and the hash key
into moto's Secrets Manager; the tests' environment names the secrets and holds none of them.
When Redis refuses the password (it was rotated), the secret is read again once, and the next
request works with the new one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import boto3
import pytest
import redis

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import UsersApi
from todo_common import clients, container, secrets_manager
from todo_common.settings import get_settings


@pytest.fixture
def api(clean: None) -> UsersApi:
    return UsersApi()


def test_the_environment_names_the_secrets_and_holds_none_of_them(api: UsersApi) -> None:
    for value in ("DATABASE_URI", "REDIS_PASSWORD", "SECURITY_HASH_KEY", "SECURITY_SECRET_KEY"):
        assert not os.environ.get(value), value
    settings = get_settings()
    assert settings.database.uri_secret == "todo/local/database-uri"
    assert settings.redis.password_secret == "todo/local/redis-password"
    assert settings.security.hash_key_secret == "todo/local/hash-key"
    # And Redis does want a password: without one it refuses
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=settings.redis.host, port=settings.redis.port).ping()
    assert api.request("GET", "/health").status == 200


@pytest.fixture
def rotated_redis_password() -> Iterator[str]:
    """Redis's password changed, its secret updated, and the connections made with the old one
    dropped (what a rotation does); everything put back afterwards."""
    manager = boto3.client("secretsmanager")
    name = str(get_settings().redis.password_secret)
    old = manager.get_secret_value(SecretId=name)["SecretString"]
    new = secrets.token_urlsafe(32)
    admin = redis.Redis(
        host=get_settings().redis.host, port=get_settings().redis.port, password=old
    )
    admin.config_set("requirepass", new)
    manager.put_secret_value(SecretId=name, SecretString=new)
    admin = redis.Redis(
        host=get_settings().redis.host, port=get_settings().redis.port, password=new
    )
    admin.client_kill_filter(_type="normal", skipme=True)
    try:
        yield new
    finally:
        admin.config_set("requirepass", old)
        manager.put_secret_value(SecretId=name, SecretString=old)
        secrets_manager.forget_client()
        container.reset()
        clients.close_clients()


def test_given_a_rotated_redis_password_then_one_request_is_a_503_and_the_next_works(
    api: UsersApi, rotated_redis_password: str
) -> None:
    # Given a user (stored before the rotation) and Redis now wanting a new password
    user = make_user(clients.get_database())
    login = {"email": user.email, "password": DEFAULT_PASSWORD}

    # When a request meets the refusal
    refused = api.request("POST", "/auth/login", json=login)

    # Then it is a 503 problem with Retry-After, never a 500
    assert refused.status == 503, refused.body
    assert refused.problem()["detail"].startswith("Redis")
    assert refused.headers["retry-after"] == "1"

    # And the next request reads the new password, and works
    again = api.request("POST", "/auth/login", json=login)
    assert again.status == 200, again.body
