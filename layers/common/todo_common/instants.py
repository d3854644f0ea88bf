"""Instants as the API keeps them: UTC, cut to milliseconds (what MongoDB stores), so a value
read back compares equal to the one written, and written as one text everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def to_milliseconds(value: datetime) -> datetime:
    """`value` without its sub-millisecond part: what a MongoDB date keeps of it."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def utcnow() -> datetime:
    """Now in UTC, cut to milliseconds."""
    return to_milliseconds(datetime.now(UTC))


def instant_text(value: datetime) -> str:
    """An instant as the API writes it everywhere (answers, audit changes, the audit trail's
    canonical form): UTC, always at millisecond precision, `Z` (`2026-12-02T01:48:13.000Z`), so
    that such texts sort as their instants do. A naive datetime is read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
