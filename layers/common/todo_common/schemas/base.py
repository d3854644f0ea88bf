"""Base classes for API bodies: camelCase aliases, unknown fields refused, nulls checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from todo_common.instants import instant_text, to_milliseconds
from todo_common.security.passwords import password_problem

if TYPE_CHECKING:
    from todo_common.repositories.pagination import Slice
    from todo_common.services.sync import Changes

# One rule for ids everywhere (paths, filters, bodies): 24 hex digits, either case, answered and
# stored lower-case (what `str(ObjectId)` gives). A path id that is not one is a 404 (see
# `repositories/base.object_id`); a filter or body field that is not one is a 422.
ObjectIdStr = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{24}$")
]
ObjectIdOrMe = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^(me|[0-9a-fA-F]{24})$")
]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


class PublicModel(ApiModel):
    """A resource as the API answers it, read from the domain object's fields of the same names
    (so a field added to a record and to its public schema needs no mapping code)."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, record: object) -> Self:
        return cls.model_validate(record, from_attributes=True)


class PatchModel(ApiModel):
    """A partial update: absent fields stay as they are; `null` only where `nullable` allows."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        """Document `null` only for the fields in `nullable` (the others refuse it)."""
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, info in cls.model_fields.items():
            prop = target.get("properties", {}).get(info.alias or name)
            if name in cls.nullable or prop is None or "anyOf" not in prop:
                continue
            options = [o for o in prop["anyOf"] if o != {"type": "null"}]
            if len(options) == 1:
                prop.pop("anyOf")
                prop.update(options[0])
            else:
                prop["anyOf"] = options
        return schema

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                field = to_snake(key, cls)
                if value is None and field not in cls.nullable:
                    raise ValueError(f"{key} may not be null")
        return data

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by Python name."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def to_snake(key: str, model: type[BaseModel]) -> str:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name
    return key


def check_password(value: str | None) -> str | None:
    if value is not None:
        problem = password_problem(value)
        if problem:
            raise ValueError(problem)
    return value


def as_utc(value: datetime) -> datetime:
    """Instants in UTC: naive values are taken as UTC; cut to milliseconds (what MongoDB keeps).

    An instant whose UTC form falls outside years 1..9999 (`9999-12-31T23:00:00-14:00`) cannot be
    represented: a `ValueError`, which the API answers with a 422 naming the field.
    """
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(
            "date is outside the range this API can store (years 1 to 9999, UTC)"
        ) from exc
    return to_milliseconds(value)


_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}|$)")


def iso_text_only(value: Any) -> Any:
    """Text must be an ISO 8601 date-time, or a date (midnight UTC), as the document says;
    pydantic alone would also read `0.5` as a Unix time."""
    if isinstance(value, str | bytes | int | float) and not isinstance(value, bool):
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if not _ISO_DATE_TIME.match(text.strip()):
            raise ValueError("expected an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z")
    return value


UtcDateTime = Annotated[
    datetime,
    BeforeValidator(iso_text_only),
    AfterValidator(as_utc),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date", "description": "midnight UTC"},
            ]
        },
        mode="validation",
    ),
]


# An instant as the API answers it: UTC, always at millisecond precision with `Z`
# (`2026-12-02T01:48:13.000Z`, never `…13Z` for a whole second), so that the answers' timestamps
# sort as text the way they sort as time.
Instant = Annotated[
    datetime,
    PlainSerializer(instant_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]

T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )

    @classmethod
    def of(cls, result: Slice[Any], public: Callable[[Any], T]) -> Self:
        """A list's page, each record in its public form: `Page[XPublic].of(result, XPublic.of)`."""
        return cls(items=[public(r) for r in result.items], next_cursor=result.next_cursor)


class Tombstone(ApiModel):
    """A record deleted since `updatedSince`: drop your copy. Nothing else of it is shown."""

    id: str
    is_active: Literal[False]
    updated_at: Instant


class ChangePage(ApiModel, Generic[T]):
    """A page of a sync (`updatedSince`): the records written since, oldest write first, and
    tombstones of those deleted."""

    items: list[T | Tombstone]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same `updatedSince`) for the next page; null at "
        "the end"
    )
    next_since: Instant = Field(
        description="Once `nextCursor` is null: the `updatedSince` of the next sync. Every write "
        "before it is in this sync's pages; later ones are in the next"
    )

    @classmethod
    def of(cls, result: Changes[Any], public: Callable[[Any], T]) -> Self:
        """A sync's page: active records in their public form, deleted ones as tombstones."""
        return cls(
            items=[
                public(r)
                if r.is_active
                else Tombstone(id=r.id, is_active=False, updated_at=r.updated_at)
                for r in result.items
            ],
            next_cursor=result.next_cursor,
            next_since=result.next_since,
        )
