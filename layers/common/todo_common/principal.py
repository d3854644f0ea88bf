"""Who a request acts for: the roles of SPEC §1 and the authenticated caller."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Role(StrEnum):
    USER = "USER"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"


class Scope(StrEnum):
    """What a personal access token may do (issue 21.1): `read` reads; `write` also changes."""

    READ = "read"
    WRITE = "write"


EVERY_SCOPE = frozenset(Scope)


class Principal(NamedTuple):
    """The authenticated caller of a request.

    A session's caller has every scope. A personal access token's caller has its owner's role
    at the time of the request (never one kept in the token), the token's scopes, and no
    session (`session_id` None).
    """

    user_id: str
    role: Role
    session_id: str | None
    token_id: str | None = None
    scopes: frozenset[Scope] = EVERY_SCOPE

    @property
    def via_token(self) -> bool:
        return self.token_id is not None
