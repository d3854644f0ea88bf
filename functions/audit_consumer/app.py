"""The audit consumer: SQS batches of audit events, partial failures reported.

Not a Mangum app: SQS events are not HTTP. The outbox relay, which shares this folder, is
`relay.py`: a module of its own, so that its INIT does not import Powertools' batch processing.
"""

from __future__ import annotations

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
from todo_common.logs import logger
from todo_common.repositories.audits import AuditRepository

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
