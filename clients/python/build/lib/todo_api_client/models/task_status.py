from enum import StrEnum


class TaskStatus(StrEnum):
    ASSIGNED = "ASSIGNED"
    COMPLETED = "COMPLETED"
    PENDING = "PENDING"

    def __str__(self) -> str:
        return str(self.value)
