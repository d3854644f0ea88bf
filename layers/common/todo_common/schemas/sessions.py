"""Session bodies (`GET /auth/sessions`, issue 21.2)."""

from __future__ import annotations

from typing import Self

from pydantic import Field

from todo_common.principal import Principal
from todo_common.schemas.base import ApiModel, Instant
from todo_common.security.sessions import SessionRecord


class SessionPublic(ApiModel):
    id: str = Field(description="The session's id: `DELETE /auth/sessions/{id}` ends it")
    created_at: Instant | None = Field(description="When its login happened")
    last_used_at: Instant | None = Field(description="Its last authenticated request")
    client_address: str = Field(description="The address it logged in from")
    user_agent: str = Field(description="The `User-Agent` of its login (at most 256 characters)")
    current: bool = Field(description="Whether this request is made with it")

    @classmethod
    def of(cls, record: SessionRecord, caller: Principal) -> Self:
        return cls(
            id=record.sid,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            client_address=record.client_address,
            user_agent=record.user_agent,
            current=record.sid == caller.session_id,
        )
