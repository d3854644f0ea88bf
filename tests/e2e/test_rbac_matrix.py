"""The users rows of SPEC §5, generated from `todo_common.rbac.POLICY` and checked over HTTP.

For every USERS_* action, every role and every standing towards a fresh target record (their own,
or someone else's of each role), the expectation is `allows(POLICY[action][role], relations)`,
and every endpoint of the action must answer accordingly: its success status, or a 403 problem
that changes nothing (`tests.e2e.rbac_matrix` runs it). `ENDPOINTS`, which turns an action into
real requests, is the hand-written part; an action without an entry there fails the suite.
"""

from __future__ import annotations

import itertools
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
from tests.e2e.support import users_state
from tests.factories import make_user
from todo_common.principal import Role
from todo_common.rbac import Action
from todo_common.records import User

pytestmark = pytest.mark.e2e

_serial = itertools.count(1)


@dataclass(frozen=True)
class World:
    """What one request is made against: the caller and the target record, if any."""

    caller: User
    target: User | None

    def ids(self) -> dict[str, str]:
        return {"id": self.target.id} if self.target else {}


Call = GenericCall[World]


def _new_user(_: World) -> dict[str, Any]:
    name = f"rbac-new-{next(_serial)}"
    return {
        "username": name,
        "email": f"{name}@example.com",
        "fullName": "Made By RBAC",
        "password": "a-good-password",
    }


def _replacement(world: World) -> dict[str, Any]:
    assert world.target is not None
    return {"username": world.target.username, "email": world.target.email, "fullName": "Replaced"}


def _harmless_patch(_: World) -> dict[str, Any]:
    return {"fullName": "Patched"}


# The one hand-written table: which requests exercise each action. Someone else's target of a
# restore starts soft-deleted, so there is something to restore. (One's own record stays active:
# a deleted user is logged out and cannot call anything.)
ENDPOINTS: Final[Mapping[Action, Endpoints[World]]] = {
    Action.USERS_CREATE: Endpoints((Call("POST", "/users", 201, _new_user),), NO_RECORD),
    Action.USERS_LIST: Endpoints((Call("GET", "/users", 200),), NO_RECORD),
    Action.USERS_READ: Endpoints((Call("GET", "/users/{id}", 200),), towards_a_user()),
    Action.USERS_UPDATE: Endpoints(
        (
            Call("PUT", "/users/{id}", 200, _replacement),
            Call("PATCH", "/users/{id}", 200, _harmless_patch),
        ),
        towards_a_user(),
    ),
    Action.USERS_DELETE: Endpoints((Call("DELETE", "/users/{id}", 204),), towards_a_user()),
    Action.USERS_RESTORE: Endpoints(
        (Call("POST", "/users/{id}/restore", 200, deleted_target=True),), towards_a_user()
    ),
}


def _world(db: Database[dict[str, Any]], caller: User, standing: Standing, call: Call) -> World:
    # A second active ADMIN, so deleting an ADMIN never meets the last-admin rule (409).
    make_user(db, role=Role.ADMIN)
    target: User | None = None
    if standing.owner:
        target = caller
    elif standing.other_role is not None:
        target = make_user(db, role=standing.other_role, is_active=not call.deleted_target)
    return World(caller, target)


class TestUsersRows(PolicyMatrixTests):
    matrix = PolicyMatrix(("USERS_",), ENDPOINTS, world=_world, state=users_state)
