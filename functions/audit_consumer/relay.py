"""The outbox relay (scheduled): sends the audit events that waited in the MongoDB outboxes.

Its own module beside the consumer's `app.py` (one code folder, two functions): the relay imports
only what it uses, so its INIT is not charged with the consumer's batch processing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from todo_common import container, instrument
from todo_common.audit.publisher import AuditPublisher
from todo_common.audit.relay import relay_pending
from todo_common.logs import logger
from todo_common.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
@instrument.lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
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
