"""SQS stops answering: writes are still accepted at once, and their audit events arrive once.

SPEC §7: nothing is lost. The event is stored with its change; the sender (off the request path)
and the relay (its interval shortened here, `LOCAL_SCHEDULE_SECONDS`) deliver it once SQS is
back, and the consumer records each `eventId` once, however often it was sent.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_audits_stay, wait_for_audits
from tests.factories import make_project
from tests.faults.conftest import LocalServer
from todo_common.principal import Role
from todo_common.records import User

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

pytestmark = pytest.mark.e2e

WRITES = 5
ACCEPTED_WITHIN_SECONDS = 3.0
# The sender's SQS client gives up after its timeouts and retries; the relay runs every second.
DELIVERED_WITHIN_SECONDS = 30.0


def test_writes_while_sqs_is_frozen_are_accepted_and_each_is_audited_exactly_once(
    db: Database[dict[str, Any]],
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
    api: httpx.Client,
    audit_queue: tuple[SQSClient, str],
    sqs_server: LocalServer,
) -> None:
    # Given a manager's project and an ADMIN who reads the trail
    manager, headers = user_with_token(Role.MANAGER)
    _, admin = user_with_token(Role.ADMIN)
    project = make_project(db, manager)
    request_ids = [f"sqs-down-{n}-{uuid.uuid4().hex[:8]}" for n in range(WRITES)]

    # When SQS stops answering, five writes
    with sqs_server.frozen():
        for n, request_id in enumerate(request_ids):
            started = time.monotonic()
            response = api.patch(
                f"/projects/{project.id}",
                json={"description": f"written while SQS is down ({n})"},
                headers={**headers, "X-Request-Id": request_id},
            )
            took = time.monotonic() - started
            # Then each is accepted, without waiting on SQS
            assert response.status_code == 200, response.text
            assert took < ACCEPTED_WITHIN_SECONDS, f"write {n} took {took:.2f} s"

    # And once SQS is back, each write's event is in the trail exactly once
    trail = {"entity": "PROJECT", "entityId": project.id}
    records = wait_for_audits(api, admin, WRITES, trail, DELIVERED_WITHIN_SECONDS)
    assert Counter(r["requestId"] for r in records) == Counter(request_ids), records
    assert {r["detail"] for r in records} == {"UPDATE_PROJECT"}
    # and stays so: a second delivery of an event (sender and relay both sent it) adds nothing
    assert_audits_stay(api, admin, records, seconds=3, params=trail)
