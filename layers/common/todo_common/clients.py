"""MongoDB and Redis clients, created once per Lambda container (or local process) and reused.

Every timeout derives from `APP_DEPENDENCY_BUDGET_MS` (`settings.DependencyTimeouts`), so that a
dependency that does not answer turns into a `503` within the budget (SPEC §6: 3 s), the first
request included; the pools are small: a Lambda container serves one request at a time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pymongo import MongoClient, monitoring
from pymongo.database import Database

from todo_common import secrets_manager, tracing
from todo_common.documents import Doc
from todo_common.settings import get_settings

if TYPE_CHECKING:  # imported by get_redis: the audit consumer and relay never load redis
    import redis


@lru_cache(maxsize=1)
def get_mongo_client() -> MongoClient[Doc]:
    settings = get_settings()
    db, operation_ms = settings.database, settings.timeouts.mongo_operation_ms
    return MongoClient(
        secrets_manager.database_uri(),
        # timeoutMS (client-side operation timeout) bounds each operation as a whole: server
        # selection, a new connection, the reply and a retry. Without it, a server that accepts
        # connections but never answers cost one socket timeout per attempt plus selection (up
        # to 12 s). The other two are also the background monitor's, which notices the outage.
        timeoutMS=operation_ms,
        serverSelectionTimeoutMS=operation_ms,
        connectTimeoutMS=operation_ms,
        maxPoolSize=db.max_pool_size,
        tz_aware=True,
        appname=get_settings().app.name,
        event_listeners=_mongo_listeners(),
    )


def _mongo_listeners() -> list[monitoring.CommandListener]:
    if not tracing.enabled():
        return []  # no listener at all: pymongo skips command monitoring entirely
    from todo_common.traced_clients import MongoCommandTracer

    return [MongoCommandTracer()]


def get_database() -> Database[Doc]:
    return get_mongo_client()[get_settings().database.name]


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    cfg, timeouts = get_settings().redis, get_settings().timeouts
    # Blocking pool: when the local gateway runs many requests in one process, a caller waits
    # briefly for a free connection instead of failing; a Lambda container uses one at a time.
    pool = redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
        host=cfg.host,
        port=cfg.port,
        db=cfg.db,
        username=cfg.username,
        password=secrets_manager.redis_password(),
        socket_connect_timeout=timeouts.redis_connect,
        socket_timeout=timeouts.redis_socket,
        decode_responses=cfg.decode_responses,
        max_connections=cfg.connection_pool_max_connections,
        timeout=timeouts.redis_pool_wait,
        **(
            {"connection_class": redis.SSLConnection, "ssl_cert_reqs": cfg.ssl_cert_reqs}
            if cfg.ssl
            else {}
        ),
    )
    client_class = redis.Redis
    if tracing.enabled():
        from todo_common.traced_clients import TracedRedis

        client_class = TracedRedis
    # No retries: each would add a socket timeout, past the budget for a 503.
    return client_class(connection_pool=pool, retry=Retry(NoBackoff(), 0))


def close_clients() -> None:
    """Close and forget the MongoDB and Redis clients; the next use creates new ones (SnapStart:
    a snapshot must carry no connection, see snapstart.py)."""
    if get_mongo_client.cache_info().currsize:
        get_mongo_client().close()
        get_mongo_client.cache_clear()
    if get_redis.cache_info().currsize:
        get_redis().connection_pool.disconnect()
        get_redis.cache_clear()
