from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.scope import Scope

T = TypeVar("T", bound="AccessTokenCreate")


@_attrs_define
class AccessTokenCreate:
    """
    Attributes:
        name (str): What the token is for, e.g. `nightly CI export`
        scopes (list[Scope]): `read`: GET only; `write`: the owner's changes too (and reads)
        expires_at (datetime.date | datetime.datetime): Required: in the future, at most 366 days ahead
    """

    name: str
    scopes: list[Scope]
    expires_at: datetime.date | datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item = scopes_item_data.value
            scopes.append(scopes_item)

        expires_at: str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "scopes": scopes,
                "expiresAt": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = Scope(scopes_item_data)

            scopes.append(scopes_item)

        def _parse_expires_at(data: object) -> datetime.date | datetime.datetime:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            expires_at_type_1 = datetime.date.fromisoformat(data)

            return expires_at_type_1

        expires_at = _parse_expires_at(d.pop("expiresAt"))

        access_token_create = cls(
            name=name,
            scopes=scopes,
            expires_at=expires_at,
        )

        return access_token_create
