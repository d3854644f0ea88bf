"""SQS stops answering while changes are made: every webhook delivery still follows once it is
back (issue 20: nothing lost), each once, signed.

The changes wait in their outboxes; once SQS answers, the relay sends them, the consumer stores
and fans them out, the worker delivers them to the receiver this test runs on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pymongo.database import Database
from standardwebhooks import Webhook as Verifier

from tests.factories import make_project
from tests.faults.conftest import LocalServer
from tests.webhook_receiver import Receiver, running_receiver
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

WRITES = 4
ACCEPTED_WITHIN_SECONDS = 3.0
DELIVERED_WITHIN_SECONDS = 45.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def test_changes_while_sqs_is_frozen_are_each_delivered_once_when_it_is_back(
    db: Database[dict[str, Any]],
    user_with_token: Callable[..., tuple[User, dict[str, str]]],
    api: httpx.Client,
    sqs_server: LocalServer,
    receiver: Receiver,
) -> None:
    # Given an ADMIN subscribed to project updates, and a project
    _, admin = user_with_token(Role.ADMIN)
    manager, headers = user_with_token(Role.MANAGER)
    project = make_project(db, manager)
    created = api.post(
        "/webhooks", json={"url": receiver.url, "events": ["project.updated"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]

    # When SQS stops answering, four changes are made
    with sqs_server.frozen():
        for n in range(WRITES):
            started = time.monotonic()
            response = api.patch(
                f"/projects/{project.id}", json={"description": f"frozen {n}"}, headers=headers
            )
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < ACCEPTED_WITHIN_SECONDS
        assert receiver.received == []

    # Then, once it is back, each change arrives, signed, once
    requests = receiver.wait_for(WRITES, timeout=DELIVERED_WITHIN_SECONDS)
    bodies = [Verifier(secret).verify(r.body, r.headers) for r in requests]
    assert sorted(b["changes"]["description"]["to"] for b in bodies) == [
        f"frozen {n}" for n in range(WRITES)
    ]
    records = {r["eventId"] for r in db.audits.find({"entityId": project.id})}
    ids = Counter(r.headers["webhook-id"] for r in requests)
    assert set(ids) == records
    assert set(ids.values()) == {1}
    # and stays so: nothing arrives twice later
    time.sleep(3)
    assert len(receiver.received) == WRITES
