"""Delta sync: `GET /tasks?updatedSince=` and `GET /projects?updatedSince=` (issue 21.4).

A sync answer holds the records written in `[since, until)`, oldest write first (`_id` breaks
ties), in cursor pages, with `until = now - settle` as the answer's `nextSince`:

- **Never skipped.** A record written again while a client pages gets a newer `updatedAt`, past
  the cursor, so a later page (or the next sync) has it again. A write stamps `updatedAt` before it
  commits; a reader that went up to `now` would page past a write stamped earlier but committed
  after its read, and the next sync (from `now`) would never see it. Stopping `settle` seconds
  behind now (longer than a write may take: the dependency budget, plus the clocks' skew) leaves
  such a write in the window of a later page or of the next sync.
- **Tombstones.** A record deleted within the window is answered as `{id, isActive: false,
  updatedAt}` and nothing else. Every reader role sees every active task and project (SPEC §5),
  so a record deleted within the window is one the caller could see before; one that was already
  deleted when the window opened (and written since, as when its assignee is deleted) is not
  shown to anyone: `deletedAt`, stamped by the write that deleted it, tells them apart.
- **No filters.** A record can leave any filter's scope (a task moves project, is reassigned,
  changes status; a project changes owner), and a filtered feed could never say so; a client
  that wants one project's tasks filters its own copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, Self, TypeVar

from todo_common.documents import Doc
from todo_common.errors import FieldError, InvalidInput
from todo_common.instants import to_milliseconds, utcnow
from todo_common.principal import Principal
from todo_common.rbac import Action, authorize
from todo_common.repositories.base import MongoRepository


class Syncable(Protocol):
    @property
    def is_active(self) -> bool: ...
    @property
    def deleted_at(self) -> datetime | None: ...
    @classmethod
    def from_document(cls, doc: Doc) -> Self: ...


R = TypeVar("R", bound=Syncable)


@dataclass(frozen=True)
class Changes(Generic[R]):
    """One page of a sync: the records (inactive ones are tombstones on the wire), the cursor of
    the next page, and the `since` of the next sync once the last page is read."""

    items: list[R]
    next_cursor: str | None
    next_since: datetime


def refuse_narrowing(sent: Mapping[str, object]) -> None:
    """A 422 naming the first filter sent with `updatedSince` (`sent`: query name -> value)."""
    for name, value in sent.items():
        if value is not None:
            reason = (
                "updatedSince syncs the whole list: a record can leave a filter's scope, and a "
                "filtered feed would never say so"
            )
            raise InvalidInput(
                f"{name} cannot be combined with updatedSince",
                [FieldError(("query", name), reason)],
            )


@dataclass(frozen=True)
class DeltaSync:
    settle: timedelta = timedelta(seconds=5)
    clock: Callable[[], datetime] = field(default=utcnow)

    def page(
        self,
        repository: MongoRepository,
        model: type[R],
        since: datetime,
        limit: int,
        cursor: str | None,
    ) -> Changes[R]:
        until = max(since, to_milliseconds(self.clock() - self.settle))
        page = repository.changes(since, until, limit, cursor)
        records = [model.from_document(doc) for doc in page.items]
        shown = [r for r in records if r.is_active or _deleted_within(r, since)]
        return Changes(shown, page.next_cursor, until)


@dataclass(frozen=True)
class ChangeFeed(Generic[R]):
    """A collection's sync as its service offers it (`service.changes(...)`): who may read it,
    where its records are, and what they are."""

    sync: DeltaSync
    read: Action
    repository: MongoRepository
    model: type[R]

    def __call__(
        self,
        principal: Principal,
        since: datetime,
        *,
        narrowed_by: Mapping[str, object],
        limit: int,
        cursor: str | None,
    ) -> Changes[R]:
        """The records written since `since`, deleted ones as tombstones; `narrowed_by`, the
        list's filters as sent, must all be absent."""
        authorize(self.read, principal)
        refuse_narrowing(narrowed_by)
        return self.sync.page(self.repository, self.model, since, limit, cursor)


def _deleted_within(record: Syncable, since: datetime) -> bool:
    # No stamp: stored inactive, never deleted by a write, so never seen active by anyone.
    return record.deleted_at is not None and record.deleted_at >= since
