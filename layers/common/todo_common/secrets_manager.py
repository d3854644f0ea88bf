"""The secrets (database URI, Redis password, hash key), read at run time from Secrets Manager.

Never from configuration: a CloudFormation `{{resolve:secretsmanager}}` reference becomes a plain
environment variable that anyone allowed `lambda:GetFunctionConfiguration` reads. The template
gives a function only the names of the secrets it uses (`DATABASE_URI_SECRET`,
`REDIS_PASSWORD_SECRET`, `SECURITY_HASH_KEY_SECRET`), and its role may read only those.

Powertools Parameters reads them, cached for `APP_SECRETS_MAX_AGE_SECONDS`: once per execution
environment in practice, as the clients are made once (before the SnapStart snapshot, or on first
use). When MongoDB or Redis refuses the credentials (a rotated password), `reread_refused` reads
that secret again, at most once per max age, and the clients are made anew on the next request.

Locally, `make dev` and `make test` take the same path against moto's Secrets Manager
(`scripts/servers.py` creates the secrets). A value given outright (`DATABASE_URI`,
`REDIS_PASSWORD`, `SECURITY_HASH_KEY`) is used instead of the secret: that is for local runs
against servers of one's own (SPEC §9) and for tests that point a function elsewhere, and
template.yaml never gives one (tests/unit/test_template_environment.py).
"""

from __future__ import annotations

import threading
import time
from enum import StrEnum
from functools import lru_cache
from typing import Any

from todo_common.errors import ServiceUnavailable
from todo_common.logs import logger
from todo_common.settings import get_settings


class Secret(StrEnum):
    DATABASE_URI = "database URI"
    REDIS_PASSWORD = "Redis password"
    HASH_KEY = "hash key"


_lock = threading.Lock()
_reread_at: dict[Secret, float] = {}


@lru_cache(maxsize=1)
def _provider() -> Any:
    """Powertools' Secrets Manager provider, with a client that gives up within the dependency
    budget (a first request may be the one that reads the secrets)."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config

    timeouts = get_settings().timeouts
    config = Config(
        connect_timeout=timeouts.aws_connect,
        read_timeout=timeouts.aws_read,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return SecretsProvider(boto3_client=boto3.client("secretsmanager", config=config))


def forget_client() -> None:
    """Drop the client and what it read (SnapStart: after a restore, credentials are new)."""
    _provider.cache_clear()


def _name(secret: Secret) -> str | None:
    settings = get_settings()
    return {
        Secret.DATABASE_URI: settings.database.uri_secret,
        Secret.REDIS_PASSWORD: settings.redis.password_secret,
        Secret.HASH_KEY: settings.security.hash_key_secret,
    }[secret]


def _read(secret: Secret, name: str, *, force: bool = False) -> str:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = _provider().get(
            name, max_age=get_settings().app.secrets_max_age_seconds, force_fetch=force
        )
    except GetParameterError as exc:
        logger.error("Secret unreadable", extra={"secret": secret.value, "error": str(exc)})
        raise ServiceUnavailable("Secrets Manager") from exc
    if not isinstance(value, str):
        raise ServiceUnavailable("Secrets Manager")  # a binary secret: not one of ours
    return value


def database_uri() -> str:
    """The MongoDB URI: `DATABASE_URI` when given outright, else the secret's, else the parts."""
    settings = get_settings().database
    name = None if settings.uri else _name(Secret.DATABASE_URI)
    return _read(Secret.DATABASE_URI, name) if name else settings.connection_uri()


def redis_password() -> str | None:
    """The Redis AUTH password: `REDIS_PASSWORD` when given outright, else the secret's (empty:
    none)."""
    settings = get_settings().redis
    name = None if settings.password else _name(Secret.REDIS_PASSWORD)
    return (_read(Secret.REDIS_PASSWORD, name) or None) if name else settings.password


def hash_key() -> str:
    """The keyed hashes' key; refused when weak (unless `APP_DEBUG=true`)."""
    settings = get_settings().security
    name = None if settings.hash_key else _name(Secret.HASH_KEY)
    key = _read(Secret.HASH_KEY, name) if name else settings.hash_key
    return get_settings().refuse_weak_hash_key(key)


def reread_refused(secret: Secret) -> bool:
    """Read `secret` again after its server refused it, at most once per max age (a wrong
    password in the secret must not turn every request into a Secrets Manager call). Whether it
    was read: the caller then drops the clients, so the next request uses the new value."""
    name = _name(secret)
    if not name:
        return False
    now = time.monotonic()
    with _lock:
        last = _reread_at.get(secret)
        if last is not None and now - last < get_settings().app.secrets_max_age_seconds:
            return False
        _reread_at[secret] = now
    logger.warning("Credentials refused: reading the secret again", extra={"secret": secret})
    _read(secret, name, force=True)
    return True


def read_all() -> None:
    """Read the secrets this function is given, before the SnapStart snapshot: a function that
    cannot read them refuses to start (SPEC §4), and the first request finds them cached."""
    for secret in Secret:
        name = _name(secret)
        if name:
            _read(secret, name)
