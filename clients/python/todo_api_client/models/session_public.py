from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="SessionPublic")


@_attrs_define
class SessionPublic:
    """
    Attributes:
        id (str): The session's id: `DELETE /auth/sessions/{id}` ends it
        created_at (datetime.datetime | None): When its login happened
        last_used_at (datetime.datetime | None): Its last authenticated request
        client_address (str): The address it logged in from
        user_agent (str): The `User-Agent` of its login (at most 256 characters)
        current (bool): Whether this request is made with it
    """

    id: str
    created_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    client_address: str
    user_agent: str
    current: bool

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        created_at: None | str
        if isinstance(self.created_at, datetime.datetime):
            created_at = self.created_at.isoformat()
        else:
            created_at = self.created_at

        last_used_at: None | str
        if isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        client_address = self.client_address

        user_agent = self.user_agent

        current = self.current

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "createdAt": created_at,
                "lastUsedAt": last_used_at,
                "clientAddress": client_address,
                "userAgent": user_agent,
                "current": current,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        def _parse_created_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                created_at_type_0 = datetime.datetime.fromisoformat(data)

                return created_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        created_at = _parse_created_at(d.pop("createdAt"))

        def _parse_last_used_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_used_at = _parse_last_used_at(d.pop("lastUsedAt"))

        client_address = d.pop("clientAddress")

        user_agent = d.pop("userAgent")

        current = d.pop("current")

        session_public = cls(
            id=id,
            created_at=created_at,
            last_used_at=last_used_at,
            client_address=client_address,
            user_agent=user_agent,
            current=current,
        )

        return session_public
