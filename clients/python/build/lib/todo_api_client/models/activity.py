from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.activity_count import ActivityCount


T = TypeVar("T", bound="Activity")


@_attrs_define
class Activity:
    """
    Attributes:
        from_ (datetime.datetime):
        to (datetime.datetime):
        total (int):
        items (list[ActivityCount]):
    """

    from_: datetime.datetime
    to: datetime.datetime
    total: int
    items: list[ActivityCount]

    def to_dict(self) -> dict[str, Any]:
        from_ = self.from_.isoformat()

        to = self.to.isoformat()

        total = self.total

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "from": from_,
                "to": to,
                "total": total,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.activity_count import ActivityCount  # noqa: PLC0415

        d = dict(src_dict)
        from_ = datetime.datetime.fromisoformat(d.pop("from"))

        to = datetime.datetime.fromisoformat(d.pop("to"))

        total = d.pop("total")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = ActivityCount.from_dict(items_item_data)

            items.append(items_item)

        activity = cls(
            from_=from_,
            to=to,
            total=total,
            items=items,
        )

        return activity
