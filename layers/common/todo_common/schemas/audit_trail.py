"""Bodies of the audit trail's integrity endpoints: the digests and the verifier's report."""

from __future__ import annotations

from pydantic import Field

from todo_common.audit.findings import FindingKind, Verification
from todo_common.schemas.base import ApiModel, Instant, PublicModel


class DigestEntry(PublicModel):
    event_id: str
    record_hash: str = Field(description="SHA-256 (hex) of the record's canonical JSON")


class AuditDigestPublic(PublicModel):
    period_start: Instant
    period_end: Instant
    count: int = Field(description="Records stored in [periodStart, periodEnd)")
    records: list[DigestEntry] = Field(description="In (recordedAt, eventId) order")
    records_hash: str
    previous_digest_hash: str | None = Field(description="null for the first digest")
    digest_hash: str
    signature: str = Field(description="Base64 DER ECDSA signature over the digestHash bytes")
    key_id: str = Field(description="ARN of the KMS key that signed it")
    signing_algorithm: str


class FindingPublic(PublicModel):
    kind: FindingKind
    detail: str
    period_start: Instant | None
    period_end: Instant | None
    event_id: str | None = Field(description="The record concerned, when it is one record")
    count: int | None = Field(description="How many records, for deletions and missing digests")
    event_ids: list[str] = Field(description="The deleted records' eventIds (up to 100)")


class AuditVerificationPublic(ApiModel):
    intact: bool = Field(description="True when nothing was found")
    from_: Instant | None = Field(alias="from")
    to: Instant
    digests: int = Field(description="Digests checked")
    records: int = Field(description="Records checked against a digest")
    pending_records: int = Field(description="Records of periods not closed yet")
    findings: list[FindingPublic]
    findings_truncated: bool = Field(description="More findings than the 1,000 listed")

    @classmethod
    def of(cls, result: Verification) -> AuditVerificationPublic:
        return cls(
            intact=result.intact,
            from_=result.from_,
            to=result.to,
            digests=result.digests,
            records=result.records,
            pending_records=result.pending_records,
            findings=[FindingPublic.of(f) for f in result.findings],
            findings_truncated=result.truncated,
        )
