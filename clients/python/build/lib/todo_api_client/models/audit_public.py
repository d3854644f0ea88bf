from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_public_changes import AuditPublicChanges


T = TypeVar("T", bound="AuditPublic")


@_attrs_define
class AuditPublic:
    """
    Attributes:
        id (str):
        event_id (str):
        actor_id (None | str):
        actor_role (None | str):
        action (str):
        entity (str):
        entity_id (str):
        detail (str):
        changes (AuditPublicChanges):
        request_id (None | str):
        created_at (datetime.datetime): When it happened
        updated_at (datetime.datetime): When it was recorded
        recorded_at (datetime.datetime | None | Unset): When the consumer stored it: the clock of the signed digests
    """

    id: str
    event_id: str
    actor_id: None | str
    actor_role: None | str
    action: str
    entity: str
    entity_id: str
    detail: str
    changes: AuditPublicChanges
    request_id: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    recorded_at: datetime.datetime | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        event_id = self.event_id

        actor_id: None | str
        actor_id = self.actor_id

        actor_role: None | str
        actor_role = self.actor_role

        action = self.action

        entity = self.entity

        entity_id = self.entity_id

        detail = self.detail

        changes = self.changes.to_dict()

        request_id: None | str
        request_id = self.request_id

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        recorded_at: None | str | Unset
        if isinstance(self.recorded_at, Unset):
            recorded_at = UNSET
        elif isinstance(self.recorded_at, datetime.datetime):
            recorded_at = self.recorded_at.isoformat()
        else:
            recorded_at = self.recorded_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "eventId": event_id,
                "actorId": actor_id,
                "actorRole": actor_role,
                "action": action,
                "entity": entity,
                "entityId": entity_id,
                "detail": detail,
                "changes": changes,
                "requestId": request_id,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )
        if recorded_at is not UNSET:
            field_dict["recordedAt"] = recorded_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_public_changes import AuditPublicChanges  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        event_id = d.pop("eventId")

        def _parse_actor_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        actor_id = _parse_actor_id(d.pop("actorId"))

        def _parse_actor_role(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        actor_role = _parse_actor_role(d.pop("actorRole"))

        action = d.pop("action")

        entity = d.pop("entity")

        entity_id = d.pop("entityId")

        detail = d.pop("detail")

        changes = AuditPublicChanges.from_dict(d.pop("changes"))

        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("requestId"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        def _parse_recorded_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                recorded_at_type_0 = datetime.datetime.fromisoformat(data)

                return recorded_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        recorded_at = _parse_recorded_at(d.pop("recordedAt", UNSET))

        audit_public = cls(
            id=id,
            event_id=event_id,
            actor_id=actor_id,
            actor_role=actor_role,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
            changes=changes,
            request_id=request_id,
            created_at=created_at,
            updated_at=updated_at,
            recorded_at=recorded_at,
        )

        return audit_public
