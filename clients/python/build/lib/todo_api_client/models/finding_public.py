from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.finding_kind import FindingKind

T = TypeVar("T", bound="FindingPublic")


@_attrs_define
class FindingPublic:
    """
    Attributes:
        kind (FindingKind):
        detail (str):
        period_start (datetime.datetime | None):
        period_end (datetime.datetime | None):
        event_id (None | str): The record concerned, when it is one record
        count (int | None): How many records, for deletions and missing digests
        event_ids (list[str]): The deleted records' eventIds (up to 100)
    """

    kind: FindingKind
    detail: str
    period_start: datetime.datetime | None
    period_end: datetime.datetime | None
    event_id: None | str
    count: int | None
    event_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        detail = self.detail

        period_start: None | str
        if isinstance(self.period_start, datetime.datetime):
            period_start = self.period_start.isoformat()
        else:
            period_start = self.period_start

        period_end: None | str
        if isinstance(self.period_end, datetime.datetime):
            period_end = self.period_end.isoformat()
        else:
            period_end = self.period_end

        event_id: None | str
        event_id = self.event_id

        count: int | None
        count = self.count

        event_ids = self.event_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "detail": detail,
                "periodStart": period_start,
                "periodEnd": period_end,
                "eventId": event_id,
                "count": count,
                "eventIds": event_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = FindingKind(d.pop("kind"))

        detail = d.pop("detail")

        def _parse_period_start(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                period_start_type_0 = datetime.datetime.fromisoformat(data)

                return period_start_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        period_start = _parse_period_start(d.pop("periodStart"))

        def _parse_period_end(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                period_end_type_0 = datetime.datetime.fromisoformat(data)

                return period_end_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        period_end = _parse_period_end(d.pop("periodEnd"))

        def _parse_event_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        event_id = _parse_event_id(d.pop("eventId"))

        def _parse_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        count = _parse_count(d.pop("count"))

        event_ids = cast(list[str], d.pop("eventIds"))

        finding_public = cls(
            kind=kind,
            detail=detail,
            period_start=period_start,
            period_end=period_end,
            event_id=event_id,
            count=count,
            event_ids=event_ids,
        )

        return finding_public
