"""Index creation, run explicitly (CLI, `make dev`, tests), never on a cold start."""

from __future__ import annotations

from pymongo.database import Database

from todo_common.repositories.base import Doc, MongoRepository
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository

REPOSITORIES: tuple[type[MongoRepository], ...] = (
    UserRepository,
    ProjectRepository,
    TaskRepository,
)


def ensure_indexes(db: Database[Doc]) -> dict[str, list[str]]:
    """Create every declared index (idempotent); return the index names per collection."""
    created: dict[str, list[str]] = {}
    for repo in REPOSITORIES:
        models = getattr(repo, "indexes", [])
        if models:
            created[repo.collection_name] = db[repo.collection_name].create_indexes(models)
    return created
