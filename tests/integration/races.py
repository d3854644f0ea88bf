"""Races staged on purpose: another writer's change landing inside a service's read-then-write."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from todo_common.documents import Doc
from todo_common.repositories.base import MongoRepository


def write_right_after_the_first_read(
    monkeypatch: pytest.MonkeyPatch,
    repository: type[MongoRepository],
    meanwhile: Callable[[], object],
) -> None:
    """Make `meanwhile` (another writer's change) land just after the service has read a record
    through `repository`, once."""
    read = repository.get
    pending = [meanwhile]

    def get(self: MongoRepository, id_: str) -> Doc | None:
        doc = read(self, id_)
        if pending:
            pending.pop()()
        return doc

    monkeypatch.setattr(repository, "get", get)
