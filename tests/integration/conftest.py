"""Integration fixtures: the real local MongoDB-protocol and Redis servers, emptied per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from pymongo.database import Database

from tests.integration.lambda_events import AuditQueue
from tests.servers import emptied_database, emptied_redis, new_digest_bucket, require_servers
from todo_common import container
from todo_common.clients import get_database
from todo_common.indexes import ensure_indexes
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def _servers() -> None:
    require_servers()
    ensure_indexes(get_database())


@pytest.fixture
def db(_servers: None) -> Database[dict[str, Any]]:
    return emptied_database()


@pytest.fixture
def redis_client(_servers: None) -> redis.Redis:
    return emptied_redis()


@pytest.fixture
def clean(db: Database[dict[str, Any]], redis_client: redis.Redis) -> None:
    """Both stores empty, and the services rebuilt so no state leaks between tests."""
    container.reset()


@pytest.fixture
def digest_bucket(clean: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The services' digest store is a fresh locked bucket (AUDIT_DIGEST_BUCKET) for this test."""
    bucket = new_digest_bucket()
    monkeypatch.setenv("AUDIT_DIGEST_BUCKET", bucket)
    get_settings.cache_clear()
    container.reset()
    yield bucket
    monkeypatch.undo()
    get_settings.cache_clear()
    container.reset()


@pytest.fixture
def queue(clean: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuditQueue]:
    """The services' audit queue (AUDIT_QUEUE_URL) is this test's own, empty."""
    audit_queue = AuditQueue.of_its_own()
    monkeypatch.setenv("AUDIT_QUEUE_URL", audit_queue.url)
    get_settings.cache_clear()
    container.reset()
    yield audit_queue
    container.audit_trail().flush()  # nothing of this test is sent after its queue is gone
    monkeypatch.undo()
    get_settings.cache_clear()
    container.reset()
    audit_queue.delete()


# Metric lines and log records, for the tests of what an operator sees.
from tests.observed import emf, log_records  # noqa: E402, F401
