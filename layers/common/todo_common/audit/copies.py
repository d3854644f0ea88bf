"""The database's copies of the digests, against the store: the verifier's check of the cache.

The store holds the truth (audit/store.py); `GET /audits/digests` lists the copies. A copy that
differs from the store's digest, one the store does not hold, and a store digest with no copy are
each a finding: the attack of issue 18 (edit a record, delete the copies, let them be signed again)
leaves copies missing or different, as well as the record the store's digest no longer matches.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from todo_common.audit.findings import Finding, FindingKind, Verification, has_period, period_text
from todo_common.documents import Doc
from todo_common.repositories.audit_digests import AuditDigestRepository

# What a digest holds: a database copy must equal the store's object in each of these.
DIGEST_FIELDS = (
    "periodStart",
    "periodEnd",
    "count",
    "records",
    "recordsHash",
    "previousDigestHash",
    "digestHash",
    "signature",
    "keyId",
    "signingAlgorithm",
)


def check_copies(
    result: Verification, copies_of: AuditDigestRepository, digests: list[Doc]
) -> None:
    """The database's copies of these store digests: each present and equal."""
    last = digests[-1]["periodStart"] + timedelta(milliseconds=1)
    copies = {
        c["periodStart"]: c for c in copies_of.starting_between(digests[0]["periodStart"], last)
    }
    for digest in digests:
        copy = copies.get(digest["periodStart"])
        if copy is None:
            result.add(
                Finding(
                    FindingKind.DATABASE_DIGEST_MISSING,
                    f"The database has no copy of the store's digest of {period_text(digest)}: "
                    "deleted",
                    digest["periodStart"],
                    digest["periodEnd"],
                )
            )
        elif any(copy.get(name) != digest.get(name) for name in DIGEST_FIELDS):
            result.add(
                Finding(
                    FindingKind.DATABASE_DIGEST_DIFFERS,
                    f"The database's digest of {period_text(digest)} differs from the store's: "
                    "altered",
                    digest["periodStart"],
                    digest["periodEnd"],
                )
            )


def check_uncopied(
    result: Verification,
    copies_of: AuditDigestRepository,
    from_: datetime | None,
    end: datetime,
    in_store: set[datetime],
) -> None:
    """Database digests of periods the store has no digest of."""
    for copy in copies_of.starting_between(from_, end):
        start = copy.get("periodStart")
        if start in in_store:
            continue
        period = period_text(copy) if has_period(copy) else str(copy.get("_id"))
        result.add(
            Finding(
                FindingKind.DATABASE_DIGEST_NOT_IN_STORE,
                f"The database's digest of {period} is not in the store: inserted",
                start if isinstance(start, datetime) else None,
                copy.get("periodEnd") if has_period(copy) else None,
            )
        )
