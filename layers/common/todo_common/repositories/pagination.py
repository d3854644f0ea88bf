"""Keyset (cursor) pagination: a page costs one index range scan, on page 1 as on page 1,000.

Every list is sorted by one field plus `_id` as the tie-breaker; the cursor carries the last row's
values of both, so the next page starts strictly after it, whatever is inserted meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from bson import ObjectId
from bson.errors import InvalidId

from todo_common.errors import FieldError, InvalidInput

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

T = TypeVar("T")


class Slice(NamedTuple, Generic[T]):
    """One page of a list: its items and the cursor of the next page (None at the end)."""

    items: list[T]
    next_cursor: str | None


class SortSpec(NamedTuple):
    field: str
    descending: bool = False

    @classmethod
    def parse(cls, value: str, allowed: frozenset[str], default: str) -> SortSpec:
        raw = value or default
        field = raw.removeprefix("-")
        if field not in allowed:
            raise InvalidInput(
                f"sort must be one of {sorted(allowed)}, optionally prefixed with '-'",
                [FieldError(("query", "sort"), f"unsupported sort field {field!r}")],
            )
        return cls(field, raw.startswith("-"))

    def mongo_sort(self) -> list[tuple[str, int]]:
        direction = -1 if self.descending else 1
        if self.field == "_id":
            return [("_id", direction)]
        return [(self.field, direction), ("_id", direction)]

    @property
    def token(self) -> str:
        return f"-{self.field}" if self.descending else self.field


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        "cursor is invalid or belongs to another sort order",
        [FieldError(("query", "cursor"), "invalid cursor")],
    )


def encode_cursor(sort: SortSpec, doc: dict[str, Any], scope: str = "") -> str:
    """An opaque cursor after `doc`, valid only for the same list (`scope`) and sort."""
    value = doc.get(sort.field) if sort.field != "_id" else None
    if isinstance(value, datetime):
        encoded: dict[str, Any] = {"t": "dt", "v": value.isoformat()}
    else:
        encoded = {"t": "raw", "v": value}
    payload = {"s": sort.token, "c": scope, "id": str(doc["_id"]), "k": encoded}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_filter(sort: SortSpec, cursor: str, scope: str = "") -> dict[str, Any]:
    """The filter that selects the rows strictly after `cursor` in `sort` order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        last_id = ObjectId(payload["id"])
        key = payload["k"]
        value = datetime.fromisoformat(key["v"]) if key["t"] == "dt" else key["v"]
        if not isinstance(value, datetime | str | int | float | bool | None):
            raise TypeError("a cursor value must be a scalar")  # never a query operator
    except (binascii.Error, ValueError, KeyError, TypeError, InvalidId) as exc:
        raise _bad_cursor() from exc
    if payload.get("s") != sort.token or payload.get("c", "") != scope:
        raise _bad_cursor()
    op = "$lt" if sort.descending else "$gt"
    if sort.field == "_id":
        return {"_id": {op: last_id}}
    return {"$or": [{sort.field: {op: value}}, {sort.field: value, "_id": {op: last_id}}]}
