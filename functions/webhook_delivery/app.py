"""The webhook delivery worker (SQS batches, partial failures reported) and its sweep
(scheduled: queues again a pending delivery whose message was lost).

Not a Mangum app: SQS and schedule events are not HTTP.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from todo_common import container, instrument
from todo_common.logs import logger
from todo_common.settings import get_settings

processor = BatchProcessor(event_type=EventType.SQS)
SWEEP_LIMIT = 500


def record_handler(record: SQSRecord) -> None:
    # A body that is no delivery message raises: after maxReceiveCount it reaches the DLQ.
    container.webhook_deliverer().handle(json.loads(record.body))


@logger.inject_lambda_context(clear_state=True)
@instrument.lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS → one attempt per message; the failed records go back to the queue."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


@logger.inject_lambda_context(clear_state=True)
@instrument.lambda_entry
def sweep_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every minute: queue again the deliveries overdue by the grace period."""
    grace = timedelta(seconds=get_settings().webhooks.sweep_grace_seconds)
    sent = container.webhook_deliverer().sweep(SWEEP_LIMIT, grace)
    logger.info("Webhook sweep ran", extra={"requeued": sent})
    return {"requeued": sent}
