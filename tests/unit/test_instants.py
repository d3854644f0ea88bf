"""Every timestamp the API answers has the same shape: UTC, milliseconds, `Z`. A record stored
at a whole second was answered `…:13Z` beside `…:13.301000Z`, so answers sorted as text (as a
client or a test compares ISO strings) came out of time order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter

from todo_common.schemas.base import Instant
from todo_common.schemas.projects import ProjectPublic

INSTANT = TypeAdapter(Instant)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 12, 2, 1, 48, 13, tzinfo=UTC), "2026-12-02T01:48:13.000Z"),
        (datetime(2026, 12, 2, 1, 48, 13, 301000, tzinfo=UTC), "2026-12-02T01:48:13.301Z"),
        (datetime(2026, 12, 2, 1, 48, 13, 301999, tzinfo=UTC), "2026-12-02T01:48:13.301Z"),
        (
            datetime(2026, 12, 2, 2, 48, 13, tzinfo=timezone(timedelta(hours=1))),
            "2026-12-02T01:48:13.000Z",
        ),
    ],
)
def test_an_instant_is_answered_in_utc_at_millisecond_precision(value: datetime, text: str) -> None:
    assert json.loads(INSTANT.dump_json(value)) == text


def test_answers_sort_as_text_the_way_they_sort_as_time() -> None:
    start = datetime(2026, 12, 2, 1, 48, 12, 976000, tzinfo=UTC)
    moments = [start + timedelta(milliseconds=12 * n) for n in range(5)]  # one on a whole second
    assert any(m.microsecond == 0 for m in moments)
    texts = [
        json.loads(
            ProjectPublic(
                id="a" * 24,
                name="p",
                description="",
                owner_id="b" * 24,
                is_active=True,
                version=1,
                created_at=moment,
                updated_at=moment,
            ).model_dump_json(by_alias=True)
        )["createdAt"]
        for moment in moments
    ]
    assert sorted(texts) == texts
