"""Index creation, run explicitly (CLI, `make dev`, tests), never on a cold start.

The command makes a database's indexes what the repositories declare: it creates the missing ones,
then drops the ones this code named (`<collection>_…`) that no repository declares any more, so
a deployed database does not keep maintaining an old design's indexes on every write. An index
under another name (one an operator made by hand, `_id_`) is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pymongo
from pymongo import IndexModel
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from todo_common.documents import Doc
from todo_common.repositories.access_tokens import AccessTokenRepository
from todo_common.repositories.audit_digests import AuditDigestRepository
from todo_common.repositories.audits import AuditRepository
from todo_common.repositories.base import MongoRepository
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository

# Not a request: building an index on a large collection may take minutes, far past the
# per-operation timeout the requests' dependency budget sets.
INDEX_BUILD_SECONDS = 600
INDEX_NOT_FOUND = 27  # the server's error code

REPOSITORIES: tuple[type[MongoRepository] | type[AuditDigestRepository], ...] = (
    AuditRepository,
    AuditDigestRepository,
    UserRepository,
    ProjectRepository,
    TaskRepository,
    WebhookRepository,
    DeliveryRepository,
    AccessTokenRepository,
)


def ensure_indexes(db: Database[Doc]) -> dict[str, list[str]]:
    """Create every declared index that is missing, drop the ones no repository declares any
    more (module docstring); return the declared names per collection."""
    with pymongo.timeout(INDEX_BUILD_SECONDS):
        return _ensure_indexes(db)


def _ensure_indexes(db: Database[Doc]) -> dict[str, list[str]]:
    declared: dict[str, list[str]] = {}
    collections = set(db.list_collection_names())
    for repo in REPOSITORIES:
        collection = db[repo.collection_name]
        existing = collection.index_information() if repo.collection_name in collections else {}
        _reconcile(collection, repo.indexes, existing)
        declared[repo.collection_name] = [m.document["name"] for m in repo.indexes]
    return declared


def _reconcile(
    collection: Collection[Doc], models: list[IndexModel], existing: Mapping[str, Any]
) -> None:
    wanted = {m.document["name"]: m.document for m in models}
    ours = [name for name in existing if name.startswith(f"{collection.name}_")]
    # A declared name whose keys or uniqueness changed is rebuilt; an undeclared one is dropped
    # only after the new set exists, so the queries it served always have an index.
    changed = [n for n in ours if n in wanted and _spec(existing[n]) != _spec(wanted[n])]
    for name in changed:
        _drop(collection, name)
    # Only the missing ones: FerretDB 1.24 drops the connection when createIndexes names
    # several indexes that already exist (database_server.py); MongoDB does not mind.
    missing = [
        m for m in models if m.document["name"] not in existing or m.document["name"] in changed
    ]
    if missing:
        collection.create_indexes(missing)
    for name in ours:
        if name not in wanted:
            _drop(collection, name)


def _drop(collection: Collection[Doc], name: str) -> None:
    try:
        collection.drop_index(name)
    except OperationFailure as exc:
        if exc.code != INDEX_NOT_FOUND:  # another run of the command dropped it first
            raise


def _spec(index: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], bool]:
    """An index's keys and uniqueness, as declared or as the server lists them."""
    key = index["key"].items() if isinstance(index["key"], dict) else index["key"]
    directions = [(f, d if isinstance(d, str) else int(d)) for f, d in key]
    return directions, bool(index.get("unique", False))
