from enum import StrEnum


class FindingKind(StrEnum):
    CHAIN_BROKEN = "CHAIN_BROKEN"
    DIGEST_ALTERED = "DIGEST_ALTERED"
    DIGEST_MISSING = "DIGEST_MISSING"
    RECORD_DELETED = "RECORD_DELETED"
    RECORD_INSERTED = "RECORD_INSERTED"
    RECORD_MODIFIED = "RECORD_MODIFIED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"

    def __str__(self) -> str:
        return str(self.value)
