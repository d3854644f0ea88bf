"""Sending audit events to SQS: one client per container, short timeouts, no long retries.

A failed send is not an error for the request: the event is already in the MongoDB outbox
(written with the change itself) and the relay sends it later.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from todo_common.audit.events import AuditEvent
from todo_common.logs import logger
from todo_common.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

# Fail fast: the outbox keeps what could not be sent, so waiting on SQS only slows the request.
_SQS_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
)


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    return boto3.client("sqs", config=_SQS_CONFIG)


class AuditPublisher:
    def __init__(self, client: SQSClient | None, queue_url: str | None) -> None:
        self._client = client
        self._queue_url = queue_url

    @classmethod
    def from_settings(cls) -> AuditPublisher:
        queue_url = get_settings().audit.queue_url
        return cls(sqs_client() if queue_url else None, queue_url)

    def send(self, event: AuditEvent) -> bool:
        """Send one event as one message; False (logged) when SQS is unreachable or unset."""
        if self._client is None or self._queue_url is None:
            return False
        try:
            self._client.send_message(
                QueueUrl=self._queue_url, MessageBody=json.dumps(event.wire())
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "Audit event kept in the outbox: SQS unavailable",
                extra={"event_id": event.event_id, "error": type(exc).__name__},
            )
            return False
        return True
