"""Sending audit events to SQS: one client per container, short timeouts, no long retries.

A failed send is not an error for the request: the event is already in the MongoDB outbox
(written with the change itself) and the relay sends it later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from todo_common import metrics, tracing
from todo_common.audit.events import AuditEvent
from todo_common.logs import logger
from todo_common.metrics import Dependency
from todo_common.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    """Created on the first send, in the sender thread: boto3's import (~0.2 s) stays off the
    cold start of a request. Short timeouts: the outbox keeps what could not be sent."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
    )
    return boto3.client("sqs", config=config)


class AuditPublisher:
    def __init__(self, queue_url: str | None, client: Callable[[], SQSClient] = sqs_client) -> None:
        self._queue_url = queue_url
        self._client = client

    @classmethod
    def from_settings(cls) -> AuditPublisher:
        return cls(get_settings().audit.queue_url)

    def send(self, event: AuditEvent) -> bool:
        """Send one event as one message; False (logged) when SQS is unreachable or unset."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._queue_url:
            return False
        try:
            with tracing.subsegment(
                "SQS SendMessage", operation="SendMessage", queue=self._queue_url.rsplit("/", 1)[-1]
            ):
                self._client().send_message(
                    QueueUrl=self._queue_url, MessageBody=json.dumps(event.wire())
                )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "Audit event kept in the outbox: SQS unavailable",
                extra={"event_id": event.event_id, "error": type(exc).__name__},
            )
            metrics.dependency_unavailable(Dependency.SQS)
            return False
        return True
