from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.project_public import ProjectPublic
    from ..models.tombstone import Tombstone


T = TypeVar("T", bound="ChangePageProjectPublic")


@_attrs_define
class ChangePageProjectPublic:
    """
    Attributes:
        items (list[ProjectPublic | Tombstone]):
        next_cursor (None | str): Pass as `cursor` (with the same `updatedSince`) for the next page; null at the end
        next_since (datetime.datetime): Once `nextCursor` is null: the `updatedSince` of the next sync. Every write
            before it is in this sync's pages; later ones are in the next
    """

    items: list[ProjectPublic | Tombstone]
    next_cursor: None | str
    next_since: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        from ..models.project_public import ProjectPublic  # noqa: PLC0415

        items = []
        for items_item_data in self.items:
            items_item: dict[str, Any]
            if isinstance(items_item_data, ProjectPublic):
                items_item = items_item_data.to_dict()
            else:
                items_item = items_item_data.to_dict()

            items.append(items_item)

        next_cursor: None | str
        next_cursor = self.next_cursor

        next_since = self.next_since.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "items": items,
                "nextCursor": next_cursor,
                "nextSince": next_since,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.project_public import ProjectPublic  # noqa: PLC0415
        from ..models.tombstone import Tombstone  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:

            def _parse_items_item(data: object) -> ProjectPublic | Tombstone:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    items_item_type_0 = ProjectPublic.from_dict(data)

                    return items_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                items_item_type_1 = Tombstone.from_dict(data)

                return items_item_type_1

            items_item = _parse_items_item(items_item_data)

            items.append(items_item)

        def _parse_next_cursor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_cursor = _parse_next_cursor(d.pop("nextCursor"))

        next_since = datetime.datetime.fromisoformat(d.pop("nextSince"))

        change_page_project_public = cls(
            items=items,
            next_cursor=next_cursor,
            next_since=next_since,
        )

        return change_page_project_public
