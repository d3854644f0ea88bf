"""Personal access token bodies (`/auth/tokens`, issue 21.1)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StringConstraints, field_validator

from todo_common.principal import Scope
from todo_common.records import AccessToken
from todo_common.schemas.base import ApiModel, Instant, PublicModel, UtcDateTime

TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Scopes = Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]


class AccessTokenCreate(ApiModel):
    name: TokenName = Field(description="What the token is for, e.g. `nightly CI export`")
    scopes: Scopes = Field(
        description="`read`: GET only; `write`: the owner's changes too (and reads)"
    )
    expires_at: UtcDateTime = Field(description="Required: in the future, at most 366 days ahead")

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[Scope]) -> list[Scope]:
        if len(set(scopes)) != len(scopes):
            raise ValueError("each scope at most once")
        return scopes


class AccessTokenPublic(PublicModel):
    id: str = Field(description="`DELETE /auth/tokens/{id}` revokes it")
    name: str
    scopes: list[Scope]
    created_at: Instant
    expires_at: Instant
    last_used_at: Instant | None = Field(description="Its last request, to the minute")
    last_used_from: str | None = Field(description="The client address of that request")


class AccessTokenWithValue(AccessTokenPublic):
    """A token as created: with its value, shown this once."""

    token: str = Field(
        description="`todo_pat_…`: send as `Authorization: Bearer <token>`; not shown again"
    )

    @classmethod
    def revealing(cls, record: AccessToken, token: str) -> Self:
        return cls.model_validate({**AccessTokenPublic.of(record).model_dump(), "token": token})
