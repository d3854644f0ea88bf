from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.finding_public import FindingPublic


T = TypeVar("T", bound="AuditVerificationPublic")


@_attrs_define
class AuditVerificationPublic:
    """
    Attributes:
        intact (bool): True when nothing was found
        from_ (datetime.datetime | None):
        to (datetime.datetime):
        digests (int): Digests checked
        records (int): Records checked against a digest
        pending_records (int): Records of periods not closed yet
        findings (list[FindingPublic]):
        findings_truncated (bool): More findings than the 1,000 listed
    """

    intact: bool
    from_: datetime.datetime | None
    to: datetime.datetime
    digests: int
    records: int
    pending_records: int
    findings: list[FindingPublic]
    findings_truncated: bool

    def to_dict(self) -> dict[str, Any]:
        intact = self.intact

        from_: None | str
        if isinstance(self.from_, datetime.datetime):
            from_ = self.from_.isoformat()
        else:
            from_ = self.from_

        to = self.to.isoformat()

        digests = self.digests

        records = self.records

        pending_records = self.pending_records

        findings = []
        for findings_item_data in self.findings:
            findings_item = findings_item_data.to_dict()
            findings.append(findings_item)

        findings_truncated = self.findings_truncated

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "intact": intact,
                "from": from_,
                "to": to,
                "digests": digests,
                "records": records,
                "pendingRecords": pending_records,
                "findings": findings,
                "findingsTruncated": findings_truncated,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.finding_public import FindingPublic  # noqa: PLC0415

        d = dict(src_dict)
        intact = d.pop("intact")

        def _parse_from_(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                from_type_0 = datetime.datetime.fromisoformat(data)

                return from_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        from_ = _parse_from_(d.pop("from"))

        to = datetime.datetime.fromisoformat(d.pop("to"))

        digests = d.pop("digests")

        records = d.pop("records")

        pending_records = d.pop("pendingRecords")

        findings = []
        _findings = d.pop("findings")
        for findings_item_data in _findings:
            findings_item = FindingPublic.from_dict(findings_item_data)

            findings.append(findings_item)

        findings_truncated = d.pop("findingsTruncated")

        audit_verification_public = cls(
            intact=intact,
            from_=from_,
            to=to,
            digests=digests,
            records=records,
            pending_records=pending_records,
            findings=findings,
            findings_truncated=findings_truncated,
        )

        return audit_verification_public
