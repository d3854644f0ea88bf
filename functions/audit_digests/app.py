"""The digest function (scheduled): signs a digest of each closed period of the audit trail and
stores it in the write-once digest store (todo_common/audit/digests.py, docs/decisions.md).

Not a Mangum app: schedule events are not HTTP.
"""

from __future__ import annotations

from typing import Any

import pymongo
from aws_lambda_powertools.utilities.typing import LambdaContext

from todo_common import container, instrument
from todo_common.instants import utcnow
from todo_common.logs import logger

DIGEST_RUN_SECONDS = 50


@logger.inject_lambda_context(clear_state=True)
@instrument.lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """On its schedule: sign a digest of every period of the audit trail that is over."""
    # Not a request: the run reads up to 200 periods' records at once, so it gets most of the
    # function's 60 s timeout rather than the requests' dependency budget.
    with pymongo.timeout(DIGEST_RUN_SECONDS):
        run = container.digest_service().close_periods(utcnow())
    # The latest digest hash in the logs too: a second copy, outside the database and the store.
    logger.info(
        "Audit digests written",
        extra={
            "digests": run.digests,
            "records": run.records,
            "lost_race": run.lost_race,
            "last_digest_hash": run.last_digest_hash,
        },
    )
    return {"digests": run.digests, "records": run.records}
