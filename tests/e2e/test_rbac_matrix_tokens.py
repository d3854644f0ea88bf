"""The personal access token rows of the policy (issue 21.1), generated from
`todo_common.rbac.POLICY` and checked over HTTP.

For every TOKENS_* action, every role and every standing towards the token's owner (the caller,
or another user of each role), the expectation is `allows(POLICY[action][role], relations)`:
the success, or a refusal that changes no token. Listing someone else's tokens is a 403; reading
or revoking someone else's is a 404 to a non-ADMIN, as for a token that does not exist, so token
ids do not leak. The caller here has a session (a token cannot create tokens: the integration
tests show it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import pytest
from pymongo.database import Database

from tests.e2e.rbac_matrix import (
    NO_RECORD,
    Endpoints,
    PolicyMatrix,
    PolicyMatrixTests,
    Standing,
    towards_a_user,
)
from tests.e2e.rbac_matrix import Call as GenericCall
from tests.factories import WITHOUT_OUTBOX, make_access_token, make_user
from todo_common.instants import instant_text, utcnow
from todo_common.principal import Role
from todo_common.rbac import Action
from todo_common.records import AccessToken, User

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class World:
    """The user whose token a request is about, and that token."""

    owner: User
    token: AccessToken

    def ids(self) -> dict[str, str]:
        return {"token": self.token.id}


Call = GenericCall[World]


def _of_owner(world: World) -> dict[str, str]:
    return {"userId": world.owner.id}


def _new_token(_: World) -> dict[str, Any]:
    expires = instant_text(utcnow() + timedelta(days=30))
    return {"name": "matrix", "scopes": ["read"], "expiresAt": expires}


ENDPOINTS: Final[Mapping[Action, Endpoints[World]]] = {
    Action.TOKENS_CREATE: Endpoints(
        (Call("POST", "/auth/tokens", 201, body=_new_token),), NO_RECORD
    ),
    Action.TOKENS_LIST: Endpoints(
        (Call("GET", "/auth/tokens", 200, params=_of_owner),), towards_a_user()
    ),
    Action.TOKENS_READ: Endpoints(
        (Call("GET", "/auth/tokens/{token}", 200, echo="id"),), towards_a_user()
    ),
    Action.TOKENS_REVOKE: Endpoints(
        (Call("DELETE", "/auth/tokens/{token}", 204),), towards_a_user()
    ),
}


def _world(db: Database[dict[str, Any]], caller: User, standing: Standing, _: Call) -> World:
    owner = make_user(db, role=standing.other_role) if standing.other_role is not None else caller
    token, _value = make_access_token(db, owner)
    return World(owner, token)


def _tokens(db: Database[dict[str, Any]]) -> object:
    return list(db.access_tokens.find({}, WITHOUT_OUTBOX).sort("_id", 1))


def _refusal(_role: Role, _standing: Standing, call: Call) -> int:
    return 404 if "{token}" in call.path else 403


class TestTokenRows(PolicyMatrixTests):
    matrix = PolicyMatrix(
        ("TOKENS_",),
        ENDPOINTS,
        world=_world,
        state=_tokens,
        refusal_status=_refusal,
        writes_change_state=True,
    )
