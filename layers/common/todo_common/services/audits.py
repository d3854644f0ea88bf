"""Reading the audit trail (ADMIN only). Nothing here, or anywhere, changes or deletes a record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from todo_common.audit.findings import Verification
from todo_common.audit.records import Audit, AuditDigest
from todo_common.audit.store import StoreUnavailable
from todo_common.audit.verify import AuditVerifier
from todo_common.errors import FieldError, InvalidInput, NotFound, ServiceUnavailable
from todo_common.instants import utcnow
from todo_common.principal import Principal
from todo_common.rbac import Action, authorize
from todo_common.repositories.audit_digests import AuditDigestRepository
from todo_common.repositories.audits import NEWEST_FIRST, AuditRepository
from todo_common.repositories.pagination import Slice

# What one request verifies: KMS checks one signature per digest (168 for a week of hourly
# periods, a few seconds), and the answer must come within the reports function's 10 s timeout.
# The CLI (`verify-audit`) has no such bound.
DEFAULT_VERIFY_WINDOW = timedelta(days=1)
MAX_VERIFY_WINDOW = timedelta(days=7)


class AuditService:
    def __init__(
        self,
        audits: AuditRepository,
        digests: AuditDigestRepository,
        verifier: AuditVerifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._audits = audits
        self._digests = digests
        self._verifier = verifier
        self._clock = clock

    def list(
        self,
        principal: Principal,
        *,
        actor_id: str | None,
        action: str | None,
        entity: str | None,
        entity_id: str | None,
        from_: datetime | None,
        to: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> Slice[Audit]:
        """Audit records, newest first."""
        authorize(Action.AUDITS_READ, principal)
        check_range(from_, to)
        query = self._audits.list_query(
            actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, from_=from_, to=to
        )
        page = self._audits.search(query, NEWEST_FIRST, limit, cursor)
        return Slice([Audit.from_document(doc) for doc in page.items], page.next_cursor)

    def get(self, principal: Principal, audit_id: str) -> Audit:
        authorize(Action.AUDITS_READ, principal)
        doc = self._audits.get(audit_id)
        if doc is None:
            raise NotFound("Audit record not found")
        return Audit.from_document(doc)

    def verify(
        self, principal: Principal, from_: datetime | None, to: datetime | None
    ) -> Verification:
        """Check the trail's digests and records over [from, to) (default: the last day)."""
        authorize(Action.AUDITS_READ, principal)
        now = self._clock()
        end = to or now
        start = from_ if from_ is not None else _before(end, DEFAULT_VERIFY_WINDOW)
        check_range(start, end)
        if end - start > MAX_VERIFY_WINDOW:
            raise InvalidInput(
                "verify at most 7 days per request (the CLI's verify-audit has no limit)",
                [FieldError(("query", "from"), "more than 7 days before `to`")],
            )
        try:
            return self._verifier.verify(now, start, end)
        except StoreUnavailable as exc:  # the verdict needs the store: none without it
            raise ServiceUnavailable("The digest store (S3)") from exc

    def digests(self, principal: Principal, limit: int, cursor: str | None) -> Slice[AuditDigest]:
        """The trail's signed digests, newest period first."""
        authorize(Action.AUDITS_READ, principal)
        page = self._digests.newest_first(limit, cursor)
        return Slice([AuditDigest.from_document(row) for row in page.items], page.next_cursor)


def _before(when: datetime, span: timedelta) -> datetime:
    """`when - span`, or the first representable instant when that would be earlier."""
    try:
        return when - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def check_range(from_: datetime | None, to: datetime | None) -> None:
    if from_ is not None and to is not None and from_ >= to:
        raise InvalidInput(
            "`from` must be before `to`", [FieldError(("query", "from"), "not before `to`")]
        )
