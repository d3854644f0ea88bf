"""Index benchmark: each collection's index count, and one task write with the old and new sets.

The old design (issue 17, item 5) declared one ESR index per subset of the equality filters, for
each sort: 27 on `tasks`. It is rebuilt here, and only here, from that rule (`old_design`). Each
set is created on a collection of its own holding the same `SEED` tasks, and two writes are timed
on each, in blocks taken in turn so that both see the same machine: a task insert, and an update
that changes indexed fields (assigning a task: `status`, `assignedTo`, `updatedAt`, `version`).
The figures are printed, never asserted. On FerretDB (SQLite) every declared index is a SQLite
index that each write maintains, as on MongoDB; the ratio, not the milliseconds, carries over.
"""

from __future__ import annotations

import os
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations

import pymongo
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection

from benchmarks.measure import repeat_ms, row
from todo_common.clients import get_database
from todo_common.indexes import REPOSITORIES
from todo_common.models import TaskStatus, utcnow
from todo_common.repositories.base import Doc
from todo_common.repositories.tasks import TaskRepository, due_fields

SEED = int(os.environ.get("BENCH_INDEX_SEED_TASKS", "5000"))
PROJECTS, USERS = 50, 100
SETUP_SECONDS = 1_800  # building 27 indexes over the seed is not a request


def _every_subset(
    collection: str,
    always: Sequence[str],
    optional: Sequence[str],
    sorts: Iterable[str],
    range_field: str | None,
    *,
    descending: bool = False,
) -> list[IndexModel]:
    """The old rule: `always`, one subset of `optional`, the sort and `_id`, the range field."""
    order = DESCENDING if descending else ASCENDING
    sorts = list(sorts)
    models = []
    for size in range(len(optional) + 1):
        for eq in combinations(optional, size):
            for stored in sorts:
                keys = [*always, *eq, stored, "_id"]
                if range_field and range_field != stored:
                    keys.append(range_field)
                spec = [(k, order if k in (stored, "_id") else ASCENDING) for k in keys]
                models.append(IndexModel(spec, name=f"{collection}_" + "_".join(keys)))
    return models


def old_design() -> dict[str, list[IndexModel]]:
    """The indexes each collection declared before the design grew linearly."""
    task_sorts = ("createdAt", "updatedAt", "dueSort")
    return {
        "audits": [
            IndexModel([("eventId", ASCENDING)], unique=True),
            *_every_subset(
                "audits",
                (),
                ("actorId", "action", "entity", "entityId"),
                ["createdAt"],
                None,
                descending=True,
            ),
            IndexModel([("recordedAt", ASCENDING), ("updatedAt", ASCENDING)]),
        ],
        "audit_digests": [IndexModel([("periodStart", ASCENDING)], unique=True)],
        "users": [
            IndexModel([("email", ASCENDING)], unique=True),
            IndexModel([("usernameKey", ASCENDING)], unique=True),
            *_every_subset(
                "users",
                (),
                ("isActive", "role"),
                ("createdAt", "updatedAt", "usernameKey"),
                "searchKeys",
                descending=True,
            ),
        ],
        "projects": _every_subset(
            "projects",
            ("isActive",),
            ("ownerId",),
            ("createdAt", "updatedAt", "nameKey"),
            "nameKey",
        ),
        "tasks": [
            *_every_subset(
                "tasks", ("isActive",), ("projectId", "assignedTo", "status"), task_sorts, "dueSort"
            ),
            IndexModel([("cascadeId", ASCENDING)], name="tasks_cascadeId"),
            IndexModel(
                [("assignedTo", ASCENDING), ("status", ASCENDING)], name="tasks_assignedTo_status"
            ),
        ],
    }


def _task(rng: random.Random, projects: list[str], users: list[str]) -> Doc:
    """A task in the shape `TaskRepository.insert` writes (its outbox left out)."""
    now = utcnow()
    assignee = rng.choice([None, *users])
    status = (
        TaskStatus.PENDING
        if assignee is None
        else rng.choice([TaskStatus.ASSIGNED, TaskStatus.COMPLETED])
    )
    return {
        "_id": ObjectId(),
        "projectId": rng.choice(projects),
        "description": "bench task",
        "assignedTo": assignee,
        "status": status.value,
        "completedAt": now if status is TaskStatus.COMPLETED else None,
        "createdBy": users[0],
        "isActive": True,
        "cascadeId": None,
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
        **due_fields(None),
    }


def _collection_with(
    name: str, models: list[IndexModel], seed: list[Doc]
) -> tuple[Collection[Doc], list[ObjectId]]:
    collection = get_database()[name]
    collection.drop()
    collection.create_indexes(models)
    for start in range(0, len(seed), 1_000):
        collection.insert_many([dict(d) for d in seed[start : start + 1_000]], ordered=False)
    return collection, [d["_id"] for d in seed]


def _writes(
    collection: Collection[Doc],
    ids: list[ObjectId],
    rng: random.Random,
    projects: list[str],
    users: list[str],
) -> dict[str, Callable[[], object]]:
    def insert() -> object:
        return collection.insert_one(_task(rng, projects, users))

    def assign() -> object:
        return collection.update_one(
            {"_id": rng.choice(ids)},
            {
                "$set": {
                    "assignedTo": rng.choice(users),
                    "status": TaskStatus.ASSIGNED.value,
                    "updatedAt": utcnow(),
                },
                "$inc": {"version": 1},
            },
        )

    return {"insert": insert, "update of indexed fields": assign}


def index_costs(runs: int = 200, blocks: int = 5) -> None:
    old = old_design()
    print("\n# Indexes per collection (`_id` included; MongoDB allows 64), old design -> new")
    for repo in REPOSITORIES:
        before, now = len(old[repo.collection_name]) + 1, len(repo.indexes) + 1
        print(f"{repo.collection_name:<44} {before:>3} -> {now:>3}", flush=True)

    rng = random.Random(17)
    projects = [str(ObjectId()) for _ in range(PROJECTS)]
    users = [str(ObjectId()) for _ in range(USERS)]
    seed = [_task(rng, projects, users) for _ in range(SEED)]
    sets = {"old": old["tasks"], "new": TaskRepository.indexes}
    print(
        f"\n# One task write, old set ({len(sets['old'])} + _id) against new "
        f"({len(sets['new'])} + _id), {SEED:,} tasks each, {runs} calls in {blocks} blocks"
    )
    timings: dict[tuple[str, str], list[float]] = {}
    with pymongo.timeout(SETUP_SECONDS):
        collections = {
            label: _collection_with(f"bench_tasks_{label}_indexes", models, seed)
            for label, models in sets.items()
        }
    try:
        writes = {
            label: _writes(collection, ids, rng, projects, users)
            for label, (collection, ids) in collections.items()
        }
        for _ in range(blocks):
            for label, calls in writes.items():
                for write, call in calls.items():
                    timings.setdefault((write, label), []).extend(
                        repeat_ms(call, runs // blocks, warmup=2)
                    )
        for write in writes["old"]:
            row(f"task {write}, old set", timings[(write, "old")])
            row(f"task {write}, new set", timings[(write, "new")])
            ratio = statistics.median(timings[(write, "new")]) / statistics.median(
                timings[(write, "old")]
            )
            print(f"  new/old p50: {ratio:.2f}x", flush=True)
    finally:
        for collection, _ids in collections.values():
            collection.drop()


if __name__ == "__main__":
    index_costs()
