from enum import StrEnum


class AuditAction(StrEnum):
    CREATE = "CREATE"
    DELETE = "DELETE"
    LOGIN = "LOGIN"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    RESTORE = "RESTORE"
    TOKEN_REUSE = "TOKEN_REUSE"
    UPDATE = "UPDATE"

    def __str__(self) -> str:
        return str(self.value)
