"""Index creation, run explicitly (CLI, `make dev`, tests), never on a cold start."""

from __future__ import annotations

import pymongo
from pymongo.database import Database

from todo_common.database_server import MongoDBServer
from todo_common.repositories.audit_digests import AuditDigestRepository
from todo_common.repositories.audits import AuditRepository
from todo_common.repositories.base import Doc, MongoRepository
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository

# Not a request: building an index on a large collection may take minutes, far past the
# per-operation timeout the requests' dependency budget sets.
INDEX_BUILD_SECONDS = 600

REPOSITORIES: tuple[type[MongoRepository] | type[AuditDigestRepository], ...] = (
    AuditRepository,
    AuditDigestRepository,
    UserRepository,
    ProjectRepository,
    TaskRepository,
    WebhookRepository,
    DeliveryRepository,
)


def ensure_indexes(db: Database[Doc]) -> dict[str, list[str]]:
    """Create every declared index that is missing; return the declared names per collection."""
    with pymongo.timeout(INDEX_BUILD_SECONDS):
        return _ensure_indexes(db)


def _ensure_indexes(db: Database[Doc]) -> dict[str, list[str]]:
    declared: dict[str, list[str]] = {}
    collections = set(db.list_collection_names())
    for repo in REPOSITORIES:
        collection = db[repo.collection_name]
        existing = (
            set(collection.index_information()) if repo.collection_name in collections else set()
        )
        # Only the missing ones: FerretDB 1.24 drops the connection when createIndexes names
        # several indexes that already exist (database_server.py); MongoDB does not mind.
        missing = [m for m in repo.indexes if m.document["name"] not in existing]
        if missing:
            collection.create_indexes(missing)
        declared[repo.collection_name] = [m.document["name"] for m in repo.indexes]
    # Records older than a field an index serves get it here, on the same explicit command.
    UserRepository(db, MongoDBServer()).backfill_search_keys()  # plain updates: no guard needed
    return declared
