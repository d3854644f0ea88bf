"""The users rows of SPEC §5, generated from `todo_common.rbac.POLICY` and checked over HTTP.

For every USERS_* action, every role and every standing towards a fresh target record (their own,
or someone else's of each role), the expectation is `allows(POLICY[action][role], relations)`,
and every endpoint of the action must answer accordingly: its success status, or a 403 problem
that changes nothing. `ENDPOINTS`, which turns an action into real requests, is the only
hand-written part; an action without an entry there fails the suite.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, users_state
from tests.factories import make_user
from todo_common.models import Role, User
from todo_common.rbac import POLICY, Action, Relation, allows

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
Body = Callable[[User | None], dict[str, Any] | None]
_serial = itertools.count(1)


def _no_body(_: User | None) -> None:
    return None


def _new_user(_: User | None) -> dict[str, Any]:
    name = f"rbac-new-{next(_serial)}"
    return {
        "username": name,
        "email": f"{name}@example.com",
        "fullName": "Made By RBAC",
        "password": "a-good-password",
    }


def _replacement(target: User | None) -> dict[str, Any]:
    assert target is not None
    return {"username": target.username, "email": target.email, "fullName": "Replaced"}


def _harmless_patch(_: User | None) -> dict[str, Any]:
    return {"fullName": "Patched"}


@dataclass(frozen=True)
class Call:
    """One HTTP request of an action; `{id}` in the path is the target record's id."""

    method: str
    path: str
    success: int
    body: Body = _no_body


@dataclass(frozen=True)
class Endpoints:
    calls: tuple[Call, ...]
    on_record: bool = True  # False: no target record (create, list), so no own/other standing
    # Someone else's target starts soft-deleted, so there is something to restore. (One's own
    # record stays active: a deleted user is logged out and cannot call anything.)
    deleted_target: bool = False


# The one hand-written table: which requests exercise each action.
ENDPOINTS: Final[Mapping[Action, Endpoints]] = {
    Action.USERS_CREATE: Endpoints((Call("POST", "/users", 201, _new_user),), on_record=False),
    Action.USERS_LIST: Endpoints((Call("GET", "/users", 200),), on_record=False),
    Action.USERS_READ: Endpoints((Call("GET", "/users/{id}", 200),)),
    Action.USERS_UPDATE: Endpoints(
        (
            Call("PUT", "/users/{id}", 200, _replacement),
            Call("PATCH", "/users/{id}", 200, _harmless_patch),
        )
    ),
    Action.USERS_DELETE: Endpoints((Call("DELETE", "/users/{id}", 204),)),
    Action.USERS_RESTORE: Endpoints(
        (Call("POST", "/users/{id}/restore", 200),),
        deleted_target=True,
    ),
}

USERS_ACTIONS = [action for action in POLICY if action.name.startswith("USERS_")]
OWN = "own"


@dataclass(frozen=True)
class Standing:
    """How the caller stands to the target: no record, their own, or another user of a role."""

    own: bool
    target_role: Role | None = None

    @property
    def relations(self) -> frozenset[Relation]:
        return frozenset({Relation.OWNER}) if self.own else frozenset()

    def __str__(self) -> str:
        if self.own:
            return OWN
        return f"other-{self.target_role}" if self.target_role else "no-record"


def _standings(action: Action) -> list[Standing]:
    endpoints = ENDPOINTS.get(action)
    if endpoints is not None and not endpoints.on_record:
        return [Standing(own=False)]
    return [Standing(own=True), *(Standing(own=False, target_role=role) for role in Role)]


CASES = [
    pytest.param(action, role, standing, id=f"{action.name}-{role}-{standing}")
    for action in USERS_ACTIONS
    for role in Role
    for standing in _standings(action)
]


def test_every_users_action_has_a_policy_row_and_endpoints() -> None:
    """An action added to `Action` without a POLICY row or an ENDPOINTS entry fails here."""
    users_actions = {action for action in Action if action.name.startswith("USERS_")}

    assert users_actions, "the policy names no USERS_ action at all"
    assert users_actions - POLICY.keys() == set(), "actions without a POLICY row"
    assert users_actions - ENDPOINTS.keys() == set(), "actions without requests in ENDPOINTS"
    assert ENDPOINTS.keys() - users_actions == set(), "ENDPOINTS maps actions that do not exist"
    for action in users_actions:
        assert POLICY[action].keys() == set(Role), f"{action.name} lacks a role"


@pytest.mark.parametrize(("action", "role", "standing"), CASES)
def test_given_role_and_standing_when_calling_the_action_then_the_policy_decides(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    action: Action,
    role: Role,
    standing: Standing,
) -> None:
    endpoints = ENDPOINTS.get(action)
    if endpoints is None:
        pytest.fail(f"{action.name} has no requests in ENDPOINTS; add them")
    expected_allowed = allows(POLICY[action][role], standing.relations)
    # A second active ADMIN, so deleting an ADMIN never meets the last-admin rule (409).
    make_user(db, role=Role.ADMIN)
    caller, headers = user_with_token(role)
    target: User | None = None
    if standing.own:
        target = caller
    elif standing.target_role is not None:
        target = make_user(db, role=standing.target_role, is_active=not endpoints.deleted_target)

    for call in endpoints.calls:
        path = call.path.format(id=target.id) if target else call.path
        before = users_state(db)

        response = client.request(call.method, path, json=call.body(target), headers=headers)

        if expected_allowed:
            assert response.status_code == call.success, (
                f"{role} {standing} {call.method} {call.path}: POLICY allows it, "
                f"got {response.status_code} {response.text}"
            )
        else:
            assert_problem(response, 403)
            assert users_state(db) == before, "a refused request changed the users"
