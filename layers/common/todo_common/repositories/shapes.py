"""Query shapes and the equality-sort-range (ESR) rule that an index must follow to serve one.

A list query's *shape* is which fields it matches exactly, which field it sorts by, and which it
bounds by a range. An index serves the shape, at the same cost on page 1 and page 1,000, when its
keys are: all the equality fields (any order), then the sort field and `_id` (the cursor's
tie-breaker), then the range fields. The unit tests check every shape the repositories can build
against the declared indexes, so a new filter without its index fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from pymongo import ASCENDING, IndexModel

_RANGE_OPERATORS = frozenset({"$lt", "$lte", "$gt", "$gte", "$regex"})


@dataclass(frozen=True)
class QueryShape:
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
        elif isinstance(condition, dict) and set(condition) <= _RANGE_OPERATORS:
            ranged.add(field)
        elif isinstance(condition, dict):
            raise ValueError(f"{field}: {sorted(condition)} has no index shape")
        else:
            equality.add(field)
    return QueryShape(frozenset(equality), sort_field, frozenset(ranged - {sort_field}))


def serves(index_keys: Sequence[str], shape: QueryShape) -> bool:
    """Whether an index with `index_keys` serves `shape` by the ESR rule."""
    n = len(shape.equality)
    if set(index_keys[:n]) != shape.equality or len(index_keys) < n + 2:
        return False
    if list(index_keys[n : n + 2]) != [shape.sort, "_id"]:
        return False
    return shape.range <= set(index_keys[n + 2 :])


def esr_indexes(
    collection: str, equality: Sequence[str], sorts: Iterable[str], range_field: str
) -> list[IndexModel]:
    """One ESR index per (subset of the `equality` filters, sort): `isActive` and the filters,
    the sort field and `_id`, then `range_field` (unless it is the sort)."""
    models = []
    for size in range(len(equality) + 1):
        for eq in combinations(equality, size):
            for stored in sorts:
                keys = ["isActive", *eq, stored, "_id"]
                if stored != range_field:
                    keys.append(range_field)
                models.append(
                    IndexModel(
                        [(k, ASCENDING) for k in keys], name=f"{collection}_" + "_".join(keys)
                    )
                )
    return models
