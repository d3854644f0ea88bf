"""The session-control rows of the policy (issue 21.2), generated from `todo_common.rbac.POLICY`
and checked over HTTP.

For every SESSIONS_* action, every role and every standing towards the session's user (the
caller, or another user of each role), the expectation is `allows(POLICY[action][role],
relations)`: the success, or a refusal that ends nothing. Listing someone else's sessions is a
403; ending someone else's is a 404 to a non-ADMIN, as for a session that does not exist, so
session ids do not leak. The caller's own target is a second session of theirs, so the one the
request is made with stays open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
from tests.factories import make_user
from todo_common.clients import get_redis
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.rbac import Action
from todo_common.records import User
from todo_common.security.sessions import Opening, SessionStore

pytestmark = pytest.mark.e2e

TTL = 600


@dataclass(frozen=True)
class World:
    """The user whose session a request is about, and that session."""

    target_user: User
    session_id: str

    def ids(self) -> dict[str, str]:
        return {"session": self.session_id}


Call = GenericCall[World]


def _of_target(world: World) -> dict[str, str]:
    return {"userId": world.target_user.id}


ENDPOINTS: Final[Mapping[Action, Endpoints[World]]] = {
    Action.SESSIONS_LIST: Endpoints(
        (Call("GET", "/auth/sessions", 200, params=_of_target),), towards_a_user()
    ),
    Action.SESSIONS_END: Endpoints(
        (Call("DELETE", "/auth/sessions/{session}", 204),), towards_a_user()
    ),
    Action.SESSIONS_END_OTHERS: Endpoints((Call("DELETE", "/auth/sessions", 204),), NO_RECORD),
}


def _world(db: Database[dict[str, Any]], caller: User, standing: Standing, _: Call) -> World:
    target = make_user(db, role=standing.other_role) if standing.other_role is not None else caller
    sid = SessionStore.new_id()
    SessionStore(get_redis()).create(
        sid, target.id, target.role.value, "jti", TTL, Opening(utcnow(), "198.51.100.9", "matrix")
    )
    return World(target, sid)


def _open_sessions(_: Database[dict[str, Any]]) -> object:
    return sorted(str(k) for k in get_redis().scan_iter("session:*"))


def _refusal(_role: Role, _standing: Standing, call: Call) -> int:
    return 404 if call.method == "DELETE" else 403


class TestSessionRows(PolicyMatrixTests):
    matrix = PolicyMatrix(
        ("SESSIONS_",),
        ENDPOINTS,
        world=_world,
        state=_open_sessions,
        refusal_status=_refusal,
        writes_change_state=True,
    )
