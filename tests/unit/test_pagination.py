"""Keyset pagination (SPEC §6): `?sort=` and `?cursor=` become index-friendly MongoDB filters.

A cursor names the last row of a page; the next page is every row strictly after it in the sort
order, with `_id` breaking ties. A cursor is only good for the sort it was made for, and anything
else a client sends as a cursor is a 422, never a 500 and never part of a query.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId

from todo_common.errors import InvalidInput
from todo_common.repositories.pagination import (
    SortSpec,
    cursor_filter,
    encode_cursor,
)

PROJECT_SORTS = frozenset({"createdAt", "updatedAt", "name"})
LAST_ID = ObjectId("64b0000000000000000000aa")
LAST_CREATED = datetime(2024, 5, 17, 9, 30, 15, 123000, tzinfo=UTC)


def last_row(**fields: Any) -> dict[str, Any]:
    """The last document of a page, as the repository read it."""
    return {"_id": LAST_ID, "createdAt": LAST_CREATED, "name": "Roadmap", **fields}


def sort(token: str) -> SortSpec:
    return SortSpec.parse(token, PROJECT_SORTS, default="-createdAt")


def raw_cursor(payload: object) -> str:
    """A cursor a client built by hand (the format is base64url JSON without padding)."""
    data = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def assert_invalid(exc: InvalidInput, field: str) -> None:
    assert exc.status == 422
    assert [tuple(error.loc) for error in exc.errors] == [("query", field)]


# --- sort ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "field", "descending"),
    [("createdAt", "createdAt", False), ("-createdAt", "createdAt", True), ("name", "name", False)],
)
def test_given_a_sort_parameter_then_it_names_the_field_and_direction(
    token: str, field: str, descending: bool
) -> None:
    spec = sort(token)

    assert (spec.field, spec.descending) == (field, descending)
    assert spec.token == token


def test_given_no_sort_parameter_then_the_default_applies() -> None:
    assert sort("") == SortSpec("createdAt", descending=True)


@pytest.mark.parametrize("token", ["dueDate", "-passwordHash", "--name", "$where", "name,_id"])
def test_given_a_sort_on_an_unlisted_field_then_it_is_refused_with_422(token: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sort(token)

    assert_invalid(refused.value, "sort")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("name", [("name", 1), ("_id", 1)]),
        ("-createdAt", [("createdAt", -1), ("_id", -1)]),
    ],
)
def test_given_a_sort_then_mongodb_sorts_by_it_with_id_as_the_tie_breaker(
    token: str, expected: list[tuple[str, int]]
) -> None:
    assert sort(token).mongo_sort() == expected


# --- cursor → filter -----------------------------------------------------------------------------


def test_given_an_ascending_sort_then_the_next_page_starts_strictly_after_the_cursor() -> None:
    spec = sort("createdAt")

    cursor = encode_cursor(spec, last_row())

    assert cursor_filter(spec, cursor) == {
        "$or": [
            {"createdAt": {"$gt": LAST_CREATED}},
            {"createdAt": LAST_CREATED, "_id": {"$gt": LAST_ID}},
        ]
    }


def test_given_a_descending_sort_then_the_next_page_starts_strictly_before_the_cursor() -> None:
    spec = sort("-createdAt")

    cursor = encode_cursor(spec, last_row())

    assert cursor_filter(spec, cursor) == {
        "$or": [
            {"createdAt": {"$lt": LAST_CREATED}},
            {"createdAt": LAST_CREATED, "_id": {"$lt": LAST_ID}},
        ]
    }


def test_given_a_string_sort_field_then_the_cursor_keeps_its_value_exactly() -> None:
    spec = sort("name")

    cursor = encode_cursor(spec, last_row(name='Ünïcode / "quoted" name'))

    assert cursor_filter(spec, cursor) == {
        "$or": [
            {"name": {"$gt": 'Ünïcode / "quoted" name'}},
            {"name": 'Ünïcode / "quoted" name', "_id": {"$gt": LAST_ID}},
        ]
    }


def test_given_a_date_cursor_then_the_date_comes_back_as_a_datetime_not_a_string() -> None:
    """MongoDB compares a date only with dates: a string would silently match no row at all."""
    spec = sort("createdAt")

    restored = cursor_filter(spec, encode_cursor(spec, last_row()))["$or"][0]["createdAt"]["$gt"]

    assert isinstance(restored, datetime)
    assert restored == LAST_CREATED


def test_given_an_id_only_sort_then_the_cursor_filters_on_id_alone() -> None:
    spec = SortSpec("_id", descending=True)

    assert cursor_filter(spec, encode_cursor(spec, last_row())) == {"_id": {"$lt": LAST_ID}}


def test_given_a_cursor_then_it_is_url_safe() -> None:
    cursor = encode_cursor(sort("name"), last_row(name="?&=/+ é" * 5))

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    ("made_for", "used_with"),
    [("createdAt", "-createdAt"), ("-createdAt", "createdAt"), ("createdAt", "updatedAt")],
)
def test_given_a_cursor_made_for_one_sort_when_used_with_another_then_it_is_422(
    made_for: str, used_with: str
) -> None:
    cursor = encode_cursor(sort(made_for), last_row(updatedAt=LAST_CREATED))

    with pytest.raises(InvalidInput) as refused:
        cursor_filter(sort(used_with), cursor)

    assert_invalid(refused.value, "cursor")


GARBAGE_CURSORS = {
    "plain-text": "garbage",
    "not-base64": "!!!***",
    "not-json": base64.urlsafe_b64encode(b"\x00\xff\xfe binary").decode(),
    "json-list": raw_cursor(["createdAt", str(LAST_ID)]),
    "json-number": raw_cursor(7),
    "missing-id": raw_cursor({"s": "createdAt", "k": {"t": "raw", "v": 1}}),
    "missing-key": raw_cursor({"s": "createdAt", "id": str(LAST_ID)}),
    "bad-object-id": raw_cursor({"s": "createdAt", "id": "zzz", "k": {"t": "raw", "v": 1}}),
    "numeric-id": raw_cursor({"s": "createdAt", "id": 12, "k": {"t": "raw", "v": 1}}),
    "bad-date": raw_cursor({"s": "createdAt", "id": str(LAST_ID), "k": {"t": "dt", "v": "soon"}}),
    "key-not-object": raw_cursor({"s": "createdAt", "id": str(LAST_ID), "k": "x"}),
}


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS.values(), ids=GARBAGE_CURSORS.keys())
def test_given_a_garbage_cursor_then_it_is_refused_with_422(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        cursor_filter(sort("createdAt"), cursor)

    assert_invalid(refused.value, "cursor")


@pytest.mark.parametrize(
    "injected",
    [{"$ne": None}, {"$regex": ".*"}, {"$where": "sleep(1000)"}, ["a", "b"]],
    ids=["ne", "regex", "where", "list"],
)
def test_given_a_forged_cursor_carrying_a_query_operator_then_it_is_refused_with_422(
    injected: object,
) -> None:
    """A cursor this API issues never holds an object or a list as the sort value. Accepting one
    puts client-written operators into the MongoDB filter (the tie-breaker branch becomes e.g.
    `{"name": {"$ne": null}}`), and an unknown operator makes MongoDB fail the query: a 500."""
    forged = raw_cursor({"s": "name", "id": str(LAST_ID), "k": {"t": "raw", "v": injected}})

    with pytest.raises(InvalidInput) as refused:
        cursor_filter(sort("name"), forged)

    assert_invalid(refused.value, "cursor")
