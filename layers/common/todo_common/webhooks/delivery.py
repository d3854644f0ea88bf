"""The delivery worker: one attempt per queue message, then delivered, retried or given up.

- `2xx`: delivered; the subscription's failing streak ends.
- `410 Gone`: the receiver is gone for good: the subscription is disabled, saying so.
- anything else (an error status, a redirect, a refused address, no answer within the timeout):
  retried after `base * 2^(n-1)` seconds (n: the attempts failed so far), capped, plus up to 25 %
  jitter so that a receiver coming back is not hit by every retry at once; once the
  subscription has failed with no success for `give_up` (3 days), it is disabled with the reason.

A duplicated message is harmless: an attempt is recorded only if the delivery still stands at
the attempt the message names (`DeliveryRepository.record_attempt`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from todo_common import metrics
from todo_common.instants import instant_text, utcnow
from todo_common.logs import logger
from todo_common.metrics import Metric
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository
from todo_common.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from todo_common.webhooks.queue import DeliveryQueue
from todo_common.webhooks.secrets import SecretBox
from todo_common.webhooks.sender import Attempt, WebhookSender
from todo_common.webhooks.signing import signed_headers

JITTER = 0.25
EARLY_SLACK = timedelta(seconds=1)  # SQS delays are whole seconds


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    cap_seconds: float
    give_up: timedelta

    def delay(self, failed: int) -> float:
        """Seconds before the next attempt after `failed` failed ones (>= 1)."""
        exponential = min(self.cap_seconds, self.base_seconds * 2.0 ** (failed - 1))
        return float(exponential * (1 + random.uniform(0, JITTER)))  # noqa: S311 - jitter, not secrecy


class WebhookDeliverer:
    def __init__(
        self,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        queue: DeliveryQueue,
        sender: WebhookSender,
        secrets: SecretBox,
        retry: RetryPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._queue = queue
        self._sender = sender
        self._secrets = secrets
        self._retry = retry
        self._clock = clock

    def handle(self, message: dict[str, Any]) -> None:
        """Make the attempt `message` asks for, if it is still the one due."""
        doc = self._deliveries.get(str(message["deliveryId"]))
        attempt = int(message["attempt"])
        if doc is None:
            return
        delivery = WebhookDelivery.from_document(doc)
        if delivery.status is not DeliveryStatus.PENDING or delivery.attempt != attempt:
            return  # delivered, given up, or this attempt was made already
        now = self._clock()
        due = delivery.next_attempt_at
        if due is not None and due > now + EARLY_SLACK:  # a retry further off than SQS delays
            self._queue.send(delivery.id, attempt, (due - now).total_seconds())
            return
        hook_doc = self._webhooks.get(delivery.webhook_id)
        webhook = Webhook.from_document(hook_doc) if hook_doc else None
        if webhook is None or not webhook.is_active or not webhook.enabled:
            why = (
                "the subscription is deleted"
                if webhook is None or not webhook.is_active
                else ("the subscription is disabled")
            )
            self._deliveries.record_attempt(
                delivery.id, attempt, {"status": DeliveryStatus.FAILED.value, "error": why}
            )
            return
        self._attempt(webhook, delivery, now)

    def sweep(self, limit: int, grace: timedelta) -> int:
        """Queue again the pending deliveries overdue by `grace` (their message was lost)."""
        now = self._clock()
        sent = 0
        for doc in self._deliveries.overdue(now - grace, limit):
            delivery = WebhookDelivery.from_document(doc)
            if self._deliveries.record_attempt(
                delivery.id, delivery.attempt, {"nextAttemptAt": now}
            ):
                self._queue.send(delivery.id, delivery.attempt)
                sent += 1
        return sent

    def signing_secrets(self, webhook: Webhook, now: datetime) -> list[str]:
        """The current secret, and a rotation's previous one until it expires."""
        secrets = [self._secrets.open(webhook.secret)]
        expires = webhook.previous_secret_expires_at
        if webhook.previous_secret is not None and expires is not None and now < expires:
            secrets.append(self._secrets.open(webhook.previous_secret))
        return secrets

    def _attempt(self, webhook: Webhook, delivery: WebhookDelivery, now: datetime) -> None:
        body = delivery.payload.encode()
        headers = signed_headers(self.signing_secrets(webhook, now), delivery.event_id, now, body)
        result = self._sender.post(webhook.url, headers, body)
        done = self._clock()
        outcome = {
            "attempt": delivery.attempt + 1,
            "statusCode": result.status_code,
            "durationMs": result.duration_ms,
            "error": result.error,
        }
        log = {
            "webhook_id": webhook.id,
            "event_id": delivery.event_id,
            "attempt": delivery.attempt + 1,
            "status_code": result.status_code,
            "duration_ms": result.duration_ms,
        }
        if result.delivered:
            self._delivered(webhook, delivery, outcome, done)
            logger.info("Webhook delivered", extra=log)
            return
        metrics.count(Metric.WEBHOOK_FAILED)
        logger.warning("Webhook attempt failed", extra=log | {"error": result.error})
        self._failed(webhook, delivery, result, outcome, done)

    def _delivered(
        self, webhook: Webhook, delivery: WebhookDelivery, outcome: dict[str, Any], done: datetime
    ) -> None:
        fields = {"status": DeliveryStatus.DELIVERED.value, "deliveredAt": done}
        if self._deliveries.record_attempt(
            delivery.id, delivery.attempt, outcome | fields | {"nextAttemptAt": None}
        ):
            self._webhooks.clear_failing(webhook.id)
            metrics.count(Metric.WEBHOOK_DELIVERED)
            latency = max(0.0, (done - delivery.occurred_at).total_seconds())
            metrics.observe(Metric.WEBHOOK_DELIVERY_LATENCY_SECONDS, latency)

    def _failed(
        self,
        webhook: Webhook,
        delivery: WebhookDelivery,
        result: Attempt,
        outcome: dict[str, Any],
        done: datetime,
    ) -> None:
        given_up = outcome | {"status": DeliveryStatus.FAILED.value, "nextAttemptAt": None}
        if result.status_code == 410:
            if self._deliveries.record_attempt(delivery.id, delivery.attempt, given_up):
                self._webhooks.disable(
                    webhook.id, f"The receiver answered 410 Gone at {instant_text(done)}"
                )
            return
        since = self._webhooks.mark_failing(webhook.id, done)
        if done - since >= self._retry.give_up:
            if self._deliveries.record_attempt(delivery.id, delivery.attempt, given_up):
                self._webhooks.disable(
                    webhook.id,
                    f"Every attempt failed since {instant_text(since)}; the last: {result.error}",
                )
            return
        delay = self._retry.delay(delivery.attempt + 1)
        retry = outcome | {"nextAttemptAt": done + timedelta(seconds=delay)}
        if self._deliveries.record_attempt(delivery.id, delivery.attempt, retry):
            self._queue.send(delivery.id, delivery.attempt + 1, delay)
