"""The audit consumer (SQS batches, partial failures reported) and the outbox relay (scheduled).

Not a Mangum app: SQS and schedule events are not HTTP.
"""

from __future__ import annotations

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
from todo_common.audit.consumer import record_message
from todo_common.audit.publisher import AuditPublisher
from todo_common.audit.relay import relay_pending
from todo_common.logs import logger
from todo_common.repositories.audits import AuditRepository
from todo_common.settings import get_settings

processor = BatchProcessor(event_type=EventType.SQS)


def _audits() -> AuditRepository:
    return container.repositories().audits


def record_handler(record: SQSRecord) -> None:
    # After the record is stored: the webhook deliveries it owes (todo_common/webhooks/fanout.py).
    record_message(record.body, _audits(), stored=container.webhook_fanout().publish)


@logger.inject_lambda_context(clear_state=True)
@instrument.lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS → audits: the failed records go back to the queue (and, in time, to the DLQ)."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


@logger.inject_lambda_context(clear_state=True)
@instrument.lambda_entry
def relay_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every minute: send the audit events that waited in the MongoDB outboxes."""
    repos = container.repositories()
    result = relay_pending(
        AuditPublisher.from_settings(),
        list(repos.audited),
        repos.outbox,
        min_age=timedelta(seconds=get_settings().audit.relay_min_age_seconds),
    )
    logger.info(
        "Outbox relay ran",
        extra={
            "sent": result.sent,
            "failed": result.failed,
            "backlog": result.backlog,
            "oldest_age_seconds": round(result.oldest_age_seconds, 3),
        },
    )
    return {"sent": result.sent, "failed": result.failed}
