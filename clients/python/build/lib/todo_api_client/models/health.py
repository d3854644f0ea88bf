from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.latencies import Latencies


T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """
    Attributes:
        status (str):
        mongo (str):
        redis (str):
        latency_ms (Latencies):
    """

    status: str
    mongo: str
    redis: str
    latency_ms: Latencies
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        mongo = self.mongo

        redis = self.redis

        latency_ms = self.latency_ms.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "mongo": mongo,
                "redis": redis,
                "latencyMs": latency_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.latencies import Latencies  # noqa: PLC0415

        d = dict(src_dict)
        status = d.pop("status")

        mongo = d.pop("mongo")

        redis = d.pop("redis")

        latency_ms = Latencies.from_dict(d.pop("latencyMs"))

        health = cls(
            status=status,
            mongo=mongo,
            redis=redis,
            latency_ms=latency_ms,
        )

        health.additional_properties = d
        return health

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
