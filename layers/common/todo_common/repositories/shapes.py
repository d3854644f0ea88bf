"""Query shapes, and list indexes whose number grows linearly with the filters.

A list query's *shape* is which fields it matches exactly, which field it sorts by, and which it
bounds by a range. An index serves a shape by the equality-sort-range (ESR) rule, at the same cost
on page 1 and page 1,000, when its keys are: all the equality fields (any order), then the sort
field and `_id` (the cursor's tie-breaker), then the range fields (`serves`). An equality may be an
`$in` over fewer than 200 values: MongoDB then scans one range per value and merges them in the
index's order, so the index still gives the sort (the MongoDB manual's "ESR rule" page).

One ESR index per subset of the filters, for each sort, is 2^n × sorts indexes: one filter more
doubles them, and every write maintains them all. Instead each collection declares a few *leads*,
and `list_indexes` makes one index per (lead, sort):

    lead's equality fields | sort field, `_id` | every other filter, the range field

- A lead is a selective filter lists are scoped by (a project, an assignee, an owner, an actor),
  followed by the few-valued fields every list query constrains (`isActive`, a task's `status`,
  a user's `role`). A query that does not filter on a few-valued field asks for all its values
  with `$in`, so the same index serves it with and without that filter.
- A shape whose equality fields are exactly a lead's is one ESR range scan (`serves`).
- Any other shape is a *bounded* scan (`bounds`): the lead it contains bounds the scan and gives
  the sort; its remaining filters are keys of the same index, so they are checked on the index
  entries, and only the documents that match are fetched.

Indexes per collection are len(leads) × len(sorts): a new filter adds nothing (it becomes a
trailing key of every list index, or one more few-valued field after the leads) or one lead.

Which shapes are which (`tests/unit/test_index_shapes.py` checks every shape the repositories
build, and fails for a filter no index covers):
- tasks: one ESR scan for a project's tasks, a caller's own tasks (`assignedTo`) and all tasks,
  each with or without `status` and `dueBefore`, in each sort; both `projectId` and `assignedTo`
  is a bounded scan over the project's tasks that checks the assignee on the index keys.
- projects: one ESR scan for every shape (with or without `ownerId`; `q` ranges on `nameKey`).
- users: one ESR scan for every shape (`isActive` and `role` are few-valued; `q` ranges on the
  multikey `searchKeys` after the sort, as before).
- audits: one ESR scan with no filter or one of `actorId`, `action`, `entity`, `entityId`; with
  several, a bounded scan led by one of them (the planner picks the most selective), the others
  checked on the index keys. `from`/`to` range over the sort field itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from pymongo import ASCENDING, DESCENDING, IndexModel

_RANGE_OPERATORS = frozenset({"$lt", "$lte", "$gt", "$gte", "$regex"})
# MongoDB merges the scans of an `$in` of fewer values in sort order; with more, `$in` is a range.
MERGED_IN_LIMIT = 200


class QueryShape(NamedTuple):
    equality: frozenset[str]
    sort: str
    range: frozenset[str] = frozenset()


def shape_of(query: dict[str, Any], sort_field: str) -> QueryShape:
    """The shape of a list filter (without its cursor condition) sorted by `sort_field`."""
    equality: set[str] = set()
    ranged: set[str] = set()
    for field, condition in query.items():
        if field == "$and":
            for part in condition:
                sub = shape_of(part, sort_field)
                equality |= sub.equality
                ranged |= sub.range
        elif field.startswith("$"):
            raise ValueError(f"{field} has no index shape; build the query without it")
        elif isinstance(condition, dict) and set(condition) == {"$in"}:
            (equality if len(condition["$in"]) < MERGED_IN_LIMIT else ranged).add(field)
        elif isinstance(condition, dict) and set(condition) <= _RANGE_OPERATORS:
            ranged.add(field)
        elif isinstance(condition, dict):
            raise ValueError(f"{field}: {sorted(condition)} has no index shape")
        else:
            equality.add(field)
    return QueryShape(frozenset(equality), sort_field, frozenset(ranged - {sort_field}))


def serves(index_keys: Sequence[str], shape: QueryShape) -> bool:
    """Whether an index with `index_keys` serves `shape` by the ESR rule: one range scan."""
    n = len(shape.equality)
    if set(index_keys[:n]) != shape.equality or len(index_keys) < n + 2:
        return False
    if list(index_keys[n : n + 2]) != [shape.sort, "_id"]:
        return False
    return shape.range <= set(index_keys[n + 2 :])


def bounds(index_keys: Sequence[str], shape: QueryShape) -> bool:
    """Whether an index serves `shape` with a bounded scan: some of its equality fields (at least
    one when it has any) lead, then the sort field and `_id`, then every other field the shape
    filters on, so the scan checks them on the index keys rather than on fetched documents."""
    for n in range(len(index_keys) - 1):
        if list(index_keys[n : n + 2]) == [shape.sort, "_id"]:
            lead = set(index_keys[:n])
            rest = set(index_keys[n + 2 :])
            return (
                lead <= shape.equality
                and (bool(lead) or not shape.equality)
                and (shape.equality - lead) | shape.range <= rest
            )
    return False


def list_indexes(
    collection: str,
    leads: Iterable[Sequence[str]],
    sorts: Iterable[str],
    filters: Sequence[str],
    range_field: str | None = None,
    *,
    descending: bool = False,
) -> list[IndexModel]:
    """One index per (lead, sort): the lead's fields, the sort field and `_id` (descending when
    asked: either direction serves both orders), then the other `filters` and `range_field`."""
    order = DESCENDING if descending else ASCENDING
    sorts = list(sorts)
    models = []
    for lead in leads:
        for stored in sorts:
            after = [f for f in (*filters, range_field) if f and f not in lead and f != stored]
            keys = [*lead, stored, "_id", *dict.fromkeys(after)]
            spec = [(k, order if k in (stored, "_id") else ASCENDING) for k in keys]
            models.append(IndexModel(spec, name=f"{collection}_" + "_".join(keys)))
    return models
