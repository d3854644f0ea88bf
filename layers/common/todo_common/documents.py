"""How a frozen dataclass is stored as a MongoDB document: `Doc`, the one name for a document.

A stored record (`records.py`) is a frozen dataclass on `Record` (the bookkeeping every record
has: id, version, timestamps), and its fields are listed there once: `from_document` reads a
MongoDB document, `document` gives the fields to write (stored names are the camelCase of the
field names, `_id` for `id`), and `audited_fields` / `audit_view` give what the audit diff
compares.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Self, get_type_hints

from pydantic.alias_generators import to_camel

# A document as pymongo reads and writes it.
Doc = dict[str, Any]


def stored_name(field: str) -> str:
    """The name a field has in MongoDB (and in the API's JSON): camelCase, `_id` for `id`."""
    return "_id" if field == "id" else to_camel(field)


class StoredModel:
    """What every stored record can do, derived from its dataclass fields."""

    # Fields kept but never shown in the audit trail (secrets, bookkeeping of a cascade).
    NOT_AUDITED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_document(cls, doc: Doc) -> Self:
        values: dict[str, Any] = {}
        for field, load in _loaders(cls):
            key = stored_name(field.name)
            if key in doc:
                values[field.name] = load(doc[key])
            elif field.default is not dataclasses.MISSING:
                values[field.name] = field.default
            elif field.default_factory is not dataclasses.MISSING:
                values[field.name] = field.default_factory()
            else:
                values[field.name] = None  # optional fields absent from older records
        return cls(**values)

    @classmethod
    def document(cls, **values: Any) -> Doc:
        """The stored form of some of this record's fields (by Python name), ready to write."""
        names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(values) - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
        return {stored_name(k): v.value if isinstance(v, Enum) else v for k, v in values.items()}

    @classmethod
    def audited_fields(cls) -> frozenset[str]:
        """Stored names of the fields an audit diff shows."""
        return frozenset(
            stored_name(field.name)
            for field in dataclasses.fields(cls)  # type: ignore[arg-type]
            if field.name not in _bookkeeping() | cls.NOT_AUDITED
        )

    def audit_view(self) -> Doc:
        """This record's audited fields by stored name, as they are before a change."""
        audited = self.audited_fields()
        return {
            stored_name(field.name): getattr(self, field.name)
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if stored_name(field.name) in audited
        }


_LOADERS: dict[type, list[tuple[dataclasses.Field[Any], Any]]] = {}


def _loaders(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """Each field with how to load its stored value (enums from their value, `_id` as text)."""
    if cls not in _LOADERS:
        _LOADERS[cls] = _build_loaders(cls)
    return _LOADERS[cls]


def _build_loaders(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    hints = get_type_hints(cls)
    loaders: list[tuple[dataclasses.Field[Any], Any]] = []
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if field.name == "id":
            load: Any = str
        elif isinstance(hint, type) and issubclass(hint, Enum):
            load = hint
        elif hint is bool:
            load = bool
        elif hint is int:
            load = int
        else:
            load = _as_is
        loaders.append((field, load))
    return loaders


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Record(StoredModel):
    """The bookkeeping every stored record has, in one place; not part of an audit diff."""

    id: str
    version: int
    created_at: datetime
    updated_at: datetime


def _bookkeeping() -> frozenset[str]:
    return frozenset(field.name for field in dataclasses.fields(Record))
