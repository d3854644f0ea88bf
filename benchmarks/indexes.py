"""Index benchmark: each collection's index count, and one task write with the old and new sets.

The old design (issue 17, item 5) declared one ESR index per subset of the equality filters, for
each sort: 27 on `tasks`. It is rebuilt here, and only here, from that rule (`old_design`). Each
set is created on a collection of its own holding the same `SEED` tasks, and two writes are timed
on each, the sets taking turns call by call (in a rotating order) so that they see the same
machine: a task insert, and an update
that changes indexed fields (assigning a task: `status`, `assignedTo`, `updatedAt`, `version`).
A third collection with only `_id` is the floor: what a set adds to it is what its indexes cost.
The figures are printed, never asserted. On FerretDB (SQLite) every declared index is a SQLite
index that each write maintains, as on MongoDB, but an update finds its document by scanning the
collection (it grows with the collection, index or not), which the floor pays too: there the
update's share of the indexes is the difference, not the ratio.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations

import pymongo
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection

from benchmarks.measure import row
from todo_common.clients import get_database
from todo_common.documents import Doc
from todo_common.indexes import REPOSITORIES
from todo_common.instants import utcnow
from todo_common.records import TaskStatus
from todo_common.repositories.tasks import TaskRepository, due_fields

SEED = int(os.environ.get("BENCH_INDEX_SEED_TASKS", "1000"))
PROJECTS, USERS = 50, 100
SETUP_SECONDS = 1_800  # building 27 indexes over the seed is not a request
ASSIGNED_FIELDS = frozenset({"assignedTo", "status", "updatedAt", "version"})  # what `assign` sets


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
    if models:
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


def index_costs(runs: int = 300, warmup: int = 20) -> None:
    old = old_design()
    print("\n# Indexes per collection (`_id` included; MongoDB allows 64), old design -> new")
    for repo in REPOSITORIES:
        # Collections born after the old design (webhooks, tokens, ...) have no "before".
        before = old.get(repo.collection_name)
        was = f"{len(before) + 1:>3}" if before is not None else "new"
        print(f"{repo.collection_name:<44} {was} -> {len(repo.indexes) + 1:>3}", flush=True)

    rng = random.Random(17)
    projects = [str(ObjectId()) for _ in range(PROJECTS)]
    users = [str(ObjectId()) for _ in range(USERS)]
    seed = [_task(rng, projects, users) for _ in range(SEED)]
    sets: dict[str, list[IndexModel]] = {
        "_id only": [],
        "old": old["tasks"],
        "new": TaskRepository.indexes,
    }
    print(
        f"\n# One task write, old set ({len(sets['old']) + 1} indexes) against new "
        f"({len(sets['new']) + 1}), {SEED:,} tasks each, {runs} calls each"
    )
    # What carries over to any server: how many index entries each write has to change.
    for label in ("old", "new"):
        rewritten = sum(bool(ASSIGNED_FIELDS & set(m.document["key"])) for m in sets[label])
        print(
            f"{label} set: an insert writes {len(sets[label]) + 1} index entries, "
            f"an assignment rewrites {rewritten}",
            flush=True,
        )
    timings: dict[tuple[str, str], list[float]] = {}
    with pymongo.timeout(SETUP_SECONDS):
        collections = {
            label: _collection_with(f"bench_tasks_{label.split()[0]}_indexes", models, seed)
            for label, models in sets.items()
        }
    try:
        writes = {
            label: _writes(collection, ids, rng, projects, users)
            for label, (collection, ids) in collections.items()
        }
        labels = list(writes)
        for n in range(warmup + runs):
            for label in labels[n % len(labels) :] + labels[: n % len(labels)]:
                for write, call in writes[label].items():
                    start = time.perf_counter()
                    call()
                    if n >= warmup:
                        elapsed = (time.perf_counter() - start) * 1000
                        timings.setdefault((write, label), []).append(elapsed)
        for write in writes["old"]:
            floor = timings[(write, "_id only")]
            row(f"task {write}, _id only", floor)
            row(f"task {write}, old set", timings[(write, "old")], floor)
            row(f"task {write}, new set", timings[(write, "new")], floor)
            old_share, new_share = (
                statistics.median(timings[(write, label)]) - statistics.median(floor)
                for label in ("old", "new")
            )
            print(
                f"  what the indexes add (p50): old {old_share:.2f} ms, new {new_share:.2f} ms",
                flush=True,
            )
    finally:
        for collection, _ids in collections.values():
            collection.drop()


if __name__ == "__main__":
    index_costs()
