"""Integration fixtures: the real local MongoDB-protocol and Redis servers, emptied per test."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from pymongo.database import Database

from tests.servers import require_servers
from todo_common import container
from todo_common.clients import get_database, get_redis
from todo_common.indexes import ensure_indexes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def _servers() -> None:
    require_servers()
    ensure_indexes(get_database())


@pytest.fixture
def db(_servers: None) -> Database[dict[str, Any]]:
    database = get_database()
    for name in database.list_collection_names():
        database[name].delete_many({})
    return database


@pytest.fixture
def redis_client(_servers: None) -> redis.Redis:
    client = get_redis()
    client.flushdb()
    return client


@pytest.fixture
def clean(db: Database[dict[str, Any]], redis_client: redis.Redis) -> None:
    """Both stores empty, and the services rebuilt so no state leaks between tests."""
    container.reset()


# Metric lines and log records, for the tests of what an operator sees.
from tests.observed import emf, log_records  # noqa: E402, F401
