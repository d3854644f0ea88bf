from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DigestEntry")


@_attrs_define
class DigestEntry:
    """
    Attributes:
        event_id (str):
        record_hash (str): SHA-256 (hex) of the record's canonical JSON
    """

    event_id: str
    record_hash: str

    def to_dict(self) -> dict[str, Any]:
        event_id = self.event_id

        record_hash = self.record_hash

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "eventId": event_id,
                "recordHash": record_hash,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_id = d.pop("eventId")

        record_hash = d.pop("recordHash")

        digest_entry = cls(
            event_id=event_id,
            record_hash=record_hash,
        )

        return digest_entry
