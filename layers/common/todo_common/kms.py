"""boto3's KMS clients, shared by the digest signer (audit/signing.py) and the token keys
(security/keys.py): one code path for AWS and local runs (moto, via `AWS_ENDPOINT_URL_KMS`).

Two clients, because the two callers can wait differently: the digest function runs on a
schedule and may retry; a login signs on a request's path, so its client gives up within the
dependency budget (no retries: each would add a read timeout), and the request is a 503.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


class KeyUnavailable(RuntimeError):
    """The key cannot be used (unknown, disabled, not configured, or KMS unreachable)."""


def _client(connect_timeout: float, read_timeout: float, attempts: int) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    return boto3.client("kms", config=config)


@lru_cache(maxsize=1)
def kms_client() -> Any:
    """The scheduled functions' client, created on first use (typed Any: KMS stubs are not a
    dependency): a few retries, as nobody waits on it."""
    return _client(connect_timeout=2, read_timeout=5, attempts=4)  # 3 retries, as before


@lru_cache(maxsize=1)
def request_kms_client() -> Any:
    """The client of calls on a request's path (token signing): one attempt within the
    dependency budget (`DependencyTimeouts.aws_connect` / `aws_read`)."""
    from todo_common.settings import get_settings

    timeouts = get_settings().timeouts
    return _client(timeouts.aws_connect, timeouts.aws_read, attempts=1)
