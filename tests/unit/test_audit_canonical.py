"""The canonical form the audit trail's hashes are computed over, and the digest schedule.

The canonical form is part of the trail's contract: an outside verifier recomputes the same
bytes (docs/decisions.md), so these cases pin it down exactly.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from bson import ObjectId

from devtools.template import _CfnLoader, load_template
from todo_common.audit.canonical import canonical_json, digest_hash, record_hash, records_hash
from todo_common.audit.digests import DigestSchedule
from todo_common.settings import AuditSettings

ROOT = Path(__file__).resolve().parents[2]


def test_given_a_document_then_keys_are_sorted_without_whitespace_in_utf8() -> None:
    doc = {"b": 1, "a": {"z": None, "é": [True, 2.5]}, "_id": ObjectId("0123456789abcdef01234567")}

    assert canonical_json(doc) == (
        '{"_id":"0123456789abcdef01234567","a":{"z":null,"é":[true,2.5]},"b":1}'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 1, 10, 0, 0, 123_999, tzinfo=UTC),
        datetime(2026, 12, 1, 11, 0, 0, 123_000, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 1, 10, 0, 0, 123_456),  # naive: read as UTC
    ],
    ids=["utc-microseconds", "other-offset", "naive"],
)
def test_given_a_timestamp_then_it_is_utc_at_milliseconds_with_z(value: datetime) -> None:
    assert canonical_json({"t": value}) == b'{"t":"2026-12-01T10:00:00.123Z"}'


def test_given_nan_then_the_canonical_form_refuses_it() -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": float("nan")})


def test_given_the_same_fields_in_another_order_then_the_record_hash_is_the_same() -> None:
    one = {"eventId": "e", "detail": "UPDATE_TASK", "changes": {"a": 1, "b": 2}}
    other = {"changes": {"b": 2, "a": 1}, "detail": "UPDATE_TASK", "eventId": "e"}

    assert record_hash(one) == record_hash(other)
    assert record_hash(one) == hashlib.sha256(canonical_json(one)).hexdigest()


@pytest.mark.parametrize(
    "change",
    [{"detail": "DELETE_TASK"}, {"extra": None}, {"changes": {"a": 1, "b": 3}}],
    ids=["field-edited", "field-added", "nested-edited"],
)
def test_given_any_field_changed_then_the_record_hash_changes(change: dict[str, object]) -> None:
    doc: dict[str, object] = {"eventId": "e", "detail": "UPDATE_TASK", "changes": {"a": 1, "b": 2}}

    assert record_hash(doc | change) != record_hash(doc)


def test_given_entries_in_another_order_then_the_records_hash_differs() -> None:
    a, b = {"eventId": "a", "recordHash": "1"}, {"eventId": "b", "recordHash": "2"}

    assert records_hash([a, b]) != records_hash([b, a])


def test_given_a_digest_then_its_hash_covers_the_link_to_the_previous_one() -> None:
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)

    def hash_with(previous: str | None) -> str:
        return digest_hash(
            period_start=start,
            period_end=start + timedelta(hours=1),
            count=0,
            records_hash_=records_hash([]),
            previous_digest_hash=previous,
        )

    assert hash_with(None) != hash_with("00" * 32)


def test_given_an_hour_schedule_then_periods_align_on_the_hour_and_close_after_the_margin() -> None:
    schedule = DigestSchedule(timedelta(hours=1), timedelta(minutes=5))
    when = datetime(2026, 12, 1, 10, 59, 59, 999_000, tzinfo=UTC)
    start = schedule.floor(when)

    assert start == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert not schedule.closable(start + timedelta(hours=1), start + timedelta(minutes=64))
    assert schedule.closable(start + timedelta(hours=1), start + timedelta(minutes=65))


def test_given_the_template_then_the_margin_outlasts_the_consumers_longest_batch() -> None:
    """A record is stamped just before its insert, inside a consumer invocation that Lambda ends
    at its timeout: a margin longer than that timeout means no record can be stored in a period
    after the period's digest was written."""
    template = load_template(ROOT / "template.yaml")
    consumer_timeout = template.functions["AuditConsumerFunction"].timeout
    digest_env = _digest_function_environment()

    assert AuditSettings().digest_margin_seconds > consumer_timeout
    assert int(digest_env["AUDIT_DIGEST_MARGIN_SECONDS"]) > consumer_timeout
    assert "AuditDigestFunction" in {s.function for s in template.schedules}


def _digest_function_environment() -> dict[str, str]:
    doc = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    variables = doc["Resources"]["AuditDigestFunction"]["Properties"]["Environment"]["Variables"]
    return {k: v for k, v in variables.items() if isinstance(v, str)}
