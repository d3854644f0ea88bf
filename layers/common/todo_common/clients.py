"""MongoDB and Redis clients, created once per Lambda container (or local process) and reused.

Timeouts are short so that a dependency that is down turns into a `503` within seconds, well before
API Gateway's 30 s limit, and the pools are small: a Lambda container serves one request at a time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pymongo import MongoClient
from pymongo.database import Database

from todo_common.settings import get_settings

if TYPE_CHECKING:  # imported by get_redis: the audit consumer and relay never load redis
    import redis

Document = dict[str, object]


@lru_cache(maxsize=1)
def get_mongo_client() -> MongoClient[Document]:
    db = get_settings().database
    return MongoClient(
        db.connection_uri(),
        serverSelectionTimeoutMS=db.server_selection_timeout_ms,
        connectTimeoutMS=db.connect_timeout_ms,
        socketTimeoutMS=db.socket_timeout_ms,
        maxPoolSize=db.max_pool_size,
        tz_aware=True,
        appname=get_settings().app.name,
    )


def get_database() -> Database[Document]:
    return get_mongo_client()[get_settings().database.name]


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    cfg = get_settings().redis
    # Blocking pool: when the local gateway runs many requests in one process, a caller waits
    # briefly for a free connection instead of failing; a Lambda container uses one at a time.
    pool = redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
        host=cfg.host,
        port=cfg.port,
        db=cfg.db,
        username=cfg.username,
        password=cfg.password,
        socket_connect_timeout=cfg.socket_connect_timeout,
        socket_timeout=cfg.socket_timeout,
        decode_responses=cfg.decode_responses,
        max_connections=cfg.connection_pool_max_connections,
        timeout=2,
        **(
            {"connection_class": redis.SSLConnection, "ssl_cert_reqs": cfg.ssl_cert_reqs}
            if cfg.ssl
            else {}
        ),
    )
    # No retries: they would stretch a Redis outage past the 3 s budget for a 503.
    return redis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))


@lru_cache(maxsize=1)
def database_is_ferretdb() -> bool:
    """Whether the server is FerretDB, whose findAndModify is not atomic (see locks.py)."""
    return "ferretdbVersion" in get_mongo_client().admin.command("buildInfo")


def close_clients() -> None:
    """Close and forget the MongoDB and Redis clients; the next use creates new ones (SnapStart:
    a snapshot must carry no connection, see snapstart.py)."""
    if get_mongo_client.cache_info().currsize:
        get_mongo_client().close()
        get_mongo_client.cache_clear()
    if get_redis.cache_info().currsize:
        get_redis().connection_pool.disconnect()
        get_redis.cache_clear()
