"""What the audit trail's verifier reports: one finding per thing it found, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from todo_common.documents import Doc
from todo_common.instants import instant_text

MAX_FINDINGS = 1000


class FindingKind(StrEnum):
    RECORD_MODIFIED = "RECORD_MODIFIED"
    RECORD_DELETED = "RECORD_DELETED"
    RECORD_INSERTED = "RECORD_INSERTED"
    DIGEST_ALTERED = "DIGEST_ALTERED"
    DIGEST_MISSING = "DIGEST_MISSING"
    CHAIN_BROKEN = "CHAIN_BROKEN"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    DIGEST_LATE = "DIGEST_LATE"
    STORE_OBJECT_REPLACED = "STORE_OBJECT_REPLACED"
    DATABASE_DIGEST_DIFFERS = "DATABASE_DIGEST_DIFFERS"
    DATABASE_DIGEST_NOT_IN_STORE = "DATABASE_DIGEST_NOT_IN_STORE"
    DATABASE_DIGEST_MISSING = "DATABASE_DIGEST_MISSING"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    detail: str
    period_start: datetime | None = None
    period_end: datetime | None = None
    event_id: str | None = None
    count: int | None = None
    event_ids: tuple[str, ...] = ()


@dataclass
class Verification:
    from_: datetime | None
    to: datetime
    digests: int = 0
    records: int = 0
    pending_records: int = 0
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False

    @property
    def intact(self) -> bool:
        return not self.findings and not self.truncated

    def add(self, finding: Finding) -> None:
        if len(self.findings) >= MAX_FINDINGS:
            self.truncated = True
        else:
            self.findings.append(finding)


def has_period(digest: Doc) -> bool:
    start, end = digest.get("periodStart"), digest.get("periodEnd")
    return isinstance(start, datetime) and isinstance(end, datetime) and start < end


def period_text(digest: Doc) -> str:
    return f"{instant_text(digest['periodStart'])}..{instant_text(digest['periodEnd'])}"
