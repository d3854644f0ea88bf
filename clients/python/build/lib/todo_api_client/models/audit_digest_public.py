from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.digest_entry import DigestEntry


T = TypeVar("T", bound="AuditDigestPublic")


@_attrs_define
class AuditDigestPublic:
    """
    Attributes:
        period_start (datetime.datetime):
        period_end (datetime.datetime):
        count (int): Records stored in [periodStart, periodEnd)
        records (list[DigestEntry]): In (recordedAt, eventId) order
        records_hash (str):
        previous_digest_hash (None | str): null for the first digest
        digest_hash (str):
        signature (str): Base64 DER ECDSA signature over the digestHash bytes
        key_id (str): ARN of the KMS key that signed it
        signing_algorithm (str):
    """

    period_start: datetime.datetime
    period_end: datetime.datetime
    count: int
    records: list[DigestEntry]
    records_hash: str
    previous_digest_hash: None | str
    digest_hash: str
    signature: str
    key_id: str
    signing_algorithm: str

    def to_dict(self) -> dict[str, Any]:
        period_start = self.period_start.isoformat()

        period_end = self.period_end.isoformat()

        count = self.count

        records = []
        for records_item_data in self.records:
            records_item = records_item_data.to_dict()
            records.append(records_item)

        records_hash = self.records_hash

        previous_digest_hash: None | str
        previous_digest_hash = self.previous_digest_hash

        digest_hash = self.digest_hash

        signature = self.signature

        key_id = self.key_id

        signing_algorithm = self.signing_algorithm

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "periodStart": period_start,
                "periodEnd": period_end,
                "count": count,
                "records": records,
                "recordsHash": records_hash,
                "previousDigestHash": previous_digest_hash,
                "digestHash": digest_hash,
                "signature": signature,
                "keyId": key_id,
                "signingAlgorithm": signing_algorithm,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.digest_entry import DigestEntry  # noqa: PLC0415

        d = dict(src_dict)
        period_start = datetime.datetime.fromisoformat(d.pop("periodStart"))

        period_end = datetime.datetime.fromisoformat(d.pop("periodEnd"))

        count = d.pop("count")

        records = []
        _records = d.pop("records")
        for records_item_data in _records:
            records_item = DigestEntry.from_dict(records_item_data)

            records.append(records_item)

        records_hash = d.pop("recordsHash")

        def _parse_previous_digest_hash(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        previous_digest_hash = _parse_previous_digest_hash(d.pop("previousDigestHash"))

        digest_hash = d.pop("digestHash")

        signature = d.pop("signature")

        key_id = d.pop("keyId")

        signing_algorithm = d.pop("signingAlgorithm")

        audit_digest_public = cls(
            period_start=period_start,
            period_end=period_end,
            count=count,
            records=records,
            records_hash=records_hash,
            previous_digest_hash=previous_digest_hash,
            digest_hash=digest_hash,
            signature=signature,
            key_id=key_id,
            signing_algorithm=signing_algorithm,
        )

        return audit_digest_public
