"""The delivery queue: one message per attempt due, `{deliveryId, attempt}`.

SQS delays a message by at most 15 minutes; a retry due later is delayed by that much and, when
it arrives early, sent again for what is left (webhooks/delivery.py). The delivery record keeps
the attempt's time, so a message lost on the way is re-sent by the sweep.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from todo_common.audit.publisher import sqs_client

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds


class QueueUnavailable(RuntimeError):
    """The delivery queue is not configured or SQS cannot be reached."""


class DeliveryQueue:
    def __init__(self, queue_url: str | None, client: Callable[[], SQSClient] = sqs_client) -> None:
        self._queue_url = queue_url
        self._client = client

    def send(self, delivery_id: str, attempt: int, delay_seconds: float = 0) -> None:
        """Ask for attempt `attempt + 1` of the delivery in `delay_seconds` (at most 900 now)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._queue_url:
            raise QueueUnavailable("WEBHOOKS_QUEUE_URL is not set")
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
        body = json.dumps({"deliveryId": delivery_id, "attempt": attempt})
        try:
            self._client().send_message(
                QueueUrl=self._queue_url, MessageBody=body, DelaySeconds=delay
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(f"the delivery queue is unavailable: {exc}") from exc
