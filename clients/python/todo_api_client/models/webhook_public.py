from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhook_event_type import WebhookEventType

T = TypeVar("T", bound="WebhookPublic")


@_attrs_define
class WebhookPublic:
    """
    Attributes:
        id (str):
        url (str):
        events (list[WebhookEventType]):
        project_id (None | str):
        description (str):
        owner_id (str):
        is_active (bool):
        enabled (bool):
        disabled_reason (None | str): Why deliveries stopped (410, or failing)
        previous_secret_expires_at (datetime.datetime | None): Until then, the secret before the last rotation signs too
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: str
    url: str
    events: list[WebhookEventType]
    project_id: None | str
    description: str
    owner_id: str
    is_active: bool
    enabled: bool
    disabled_reason: None | str
    previous_secret_expires_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        url = self.url

        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        project_id: None | str
        project_id = self.project_id

        description = self.description

        owner_id = self.owner_id

        is_active = self.is_active

        enabled = self.enabled

        disabled_reason: None | str
        disabled_reason = self.disabled_reason

        previous_secret_expires_at: None | str
        if isinstance(self.previous_secret_expires_at, datetime.datetime):
            previous_secret_expires_at = self.previous_secret_expires_at.isoformat()
        else:
            previous_secret_expires_at = self.previous_secret_expires_at

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "url": url,
                "events": events,
                "projectId": project_id,
                "description": description,
                "ownerId": owner_id,
                "isActive": is_active,
                "enabled": enabled,
                "disabledReason": disabled_reason,
                "previousSecretExpiresAt": previous_secret_expires_at,
                "version": version,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        url = d.pop("url")

        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = WebhookEventType(events_item_data)

            events.append(events_item)

        def _parse_project_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        project_id = _parse_project_id(d.pop("projectId"))

        description = d.pop("description")

        owner_id = d.pop("ownerId")

        is_active = d.pop("isActive")

        enabled = d.pop("enabled")

        def _parse_disabled_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        disabled_reason = _parse_disabled_reason(d.pop("disabledReason"))

        def _parse_previous_secret_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_secret_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return previous_secret_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        previous_secret_expires_at = _parse_previous_secret_expires_at(
            d.pop("previousSecretExpiresAt")
        )

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        webhook_public = cls(
            id=id,
            url=url,
            events=events,
            project_id=project_id,
            description=description,
            owner_id=owner_id,
            is_active=is_active,
            enabled=enabled,
            disabled_reason=disabled_reason,
            previous_secret_expires_at=previous_secret_expires_at,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
        )

        return webhook_public
