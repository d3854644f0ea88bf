from enum import StrEnum


class AuditEntity(StrEnum):
    ACCESS_TOKEN = "ACCESS_TOKEN"
    PROJECT = "PROJECT"
    SESSION = "SESSION"
    TASK = "TASK"
    USER = "USER"
    WEBHOOK = "WEBHOOK"

    def __str__(self) -> str:
        return str(self.value)
