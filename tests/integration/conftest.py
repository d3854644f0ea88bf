"""Integration fixtures: the real local MongoDB-protocol and Redis servers, emptied per test."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from pymongo.database import Database

from tests.servers import emptied_database, emptied_redis, require_servers
from todo_common import container
from todo_common.clients import get_database
from todo_common.indexes import ensure_indexes

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


# Metric lines and log records, for the tests of what an operator sees.
from tests.observed import emf, log_records  # noqa: E402, F401
