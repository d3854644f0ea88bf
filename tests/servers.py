"""The local servers the integration and end-to-end tests need: reachable, or the suite fails."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import redis
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from todo_common import secrets_manager
from todo_common.audit.store import s3_client
from todo_common.clients import get_database, get_redis
from todo_common.settings import get_settings


def require_servers() -> None:
    """Fail (never skip) when MongoDB or Redis does not answer: run the suite with `make test`."""
    settings = get_settings()
    problems = []
    uri = secrets_manager.database_uri()  # as the functions read it: from the secret
    try:
        client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=3000)
        client.admin.command("ping")
        client.close()
    except PyMongoError as exc:
        problems.append(f"MongoDB at {uri}: {exc}")
    try:
        redis.Redis(
            host=settings.redis.host,
            port=settings.redis.port,
            password=secrets_manager.redis_password(),
            socket_connect_timeout=3,
        ).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {settings.redis.host}:{settings.redis.port}: {exc}")
    if not os.environ.get("AWS_ENDPOINT_URL_SQS"):
        problems.append("AWS_ENDPOINT_URL_SQS is not set (the local SQS endpoint)")
    if not os.environ.get("AWS_ENDPOINT_URL_KMS") or not settings.audit.digest_key_id:
        problems.append(
            "AWS_ENDPOINT_URL_KMS or AUDIT_DIGEST_KEY_ID is not set (the local KMS signing key)"
        )
    if not os.environ.get("AWS_ENDPOINT_URL_S3") or not settings.audit.digest_bucket:
        problems.append(
            "AWS_ENDPOINT_URL_S3 or AUDIT_DIGEST_BUCKET is not set (the local digest store)"
        )
    if problems:
        pytest.fail(
            "Local servers are not reachable; run the suite with `make test`, which starts "
            "them.\n" + "\n".join(problems),
            pytrace=False,
        )


def emptied_database() -> Database[dict[str, Any]]:
    """The tests' database with every collection emptied (the indexes stay)."""
    database = get_database()
    for name in database.list_collection_names():
        database[name].delete_many({})
    return database


def emptied_redis() -> redis.Redis:
    client = get_redis()
    client.flushdb()
    return client


def new_digest_bucket() -> str:
    """A fresh bucket for the digest store, locked as `scripts/servers.py` makes it: objects in
    a locked bucket cannot be deleted, so each test that writes digests gets its own."""
    name = f"todo-audit-digests-{uuid.uuid4().hex[:16]}"
    s3 = s3_client()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    return name
