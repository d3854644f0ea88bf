"""The audits and reports rows of SPEC §5, generated from `todo_common.rbac.POLICY`, over HTTP.

For every AUDITS_* and REPORT_* action, every role and, for the workload, every standing towards
the user it is about (the caller themself, or another user of each role), the expectation is
`allows(POLICY[action][role], relations)`, and every request of the action must answer
accordingly: 200 with a body about the record asked for, or a 403 problem. `ENDPOINTS`, which
turns an action into requests, is the only hand-written part; an action without an entry there
fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import assert_problem, record_audit
from tests.factories import make_project, make_user
from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.models import Project, Role, User, utcnow
from todo_common.rbac import POLICY, Action, Relation, allows

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
PREFIXES = ("AUDITS_", "REPORT_")


@dataclass(frozen=True)
class World:
    """What one request is made against: the caller and the records the paths name."""

    caller: User
    target_user: User  # whose workload is asked for
    project: Project  # another MANAGER's project, for its summary
    audit_id: str  # a stored audit record


def _no_params(_: World) -> dict[str, str]:
    return {}


def _last_day(_: World) -> dict[str, str]:
    now = utcnow()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}


def _audit(world: World) -> str:
    return world.audit_id


def _project(world: World) -> str:
    return world.project.id


def _user(world: World) -> str:
    return world.target_user.id


@dataclass(frozen=True)
class Call:
    """One GET of an action; `{id}` in the path is the record `target` picks, and on success
    the body's `echo` member names it."""

    path: str
    target: Callable[[World], str] | None = None
    echo: str = "id"
    params: Callable[[World], dict[str, str]] = _no_params

    def url(self, world: World) -> str:
        return self.path.format(id=self.target(world)) if self.target else self.path


@dataclass(frozen=True)
class Endpoints:
    calls: tuple[Call, ...]
    about_a_user: bool = False  # vary the standing towards the target user (own / others')


# The one hand-written table: which requests exercise each action (all GETs).
ENDPOINTS: Final[Mapping[Action, Endpoints]] = {
    Action.AUDITS_READ: Endpoints(
        (
            Call("/audits"),
            Call("/audits/{id}", _audit),
            Call("/audits/verify", params=_last_day),
            Call("/audits/digests"),
        )
    ),
    Action.REPORT_PROJECT_SUMMARY: Endpoints(
        (Call("/reports/projects/{id}/summary", _project, echo="projectId"),)
    ),
    Action.REPORT_USER_WORKLOAD: Endpoints(
        (Call("/reports/users/{id}/workload", _user, echo="userId"),), about_a_user=True
    ),
    Action.REPORT_ACTIVITY: Endpoints((Call("/reports/activity", params=_last_day),)),
}

ACTIONS = [action for action in POLICY if action.name.startswith(PREFIXES)]
OWN = "own"


@dataclass(frozen=True)
class Standing:
    """How the caller stands to the target user: themself, another user of a role, or n/a."""

    own: bool
    target_role: Role | None = None

    @property
    def relations(self) -> frozenset[Relation]:
        return frozenset({Relation.OWNER}) if self.own else frozenset()

    def __str__(self) -> str:
        if self.own:
            return OWN
        return f"other-{self.target_role}" if self.target_role else "any"


def _standings(action: Action) -> list[Standing]:
    endpoints = ENDPOINTS.get(action)
    if endpoints is not None and not endpoints.about_a_user:
        return [Standing(own=False)]
    return [Standing(own=True), *(Standing(own=False, target_role=role) for role in Role)]


CASES = [
    pytest.param(action, role, standing, id=f"{action.name}-{role}-{standing}")
    for action in ACTIONS
    for role in Role
    for standing in _standings(action)
]


def test_every_audits_and_reports_action_has_a_policy_row_and_endpoints() -> None:
    """An action added to `Action` without a POLICY row or an ENDPOINTS entry fails here."""
    actions = {action for action in Action if action.name.startswith(PREFIXES)}

    assert {a.name for a in actions} >= {
        "AUDITS_READ",
        "REPORT_PROJECT_SUMMARY",
        "REPORT_USER_WORKLOAD",
        "REPORT_ACTIVITY",
    }
    assert actions - POLICY.keys() == set(), "actions without a POLICY row"
    assert actions - ENDPOINTS.keys() == set(), "actions without requests in ENDPOINTS"
    assert ENDPOINTS.keys() - actions == set(), "ENDPOINTS maps actions that do not exist"
    for action in actions:
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
    caller, headers = user_with_token(role)
    target = caller if standing.own else make_user(db, role=standing.target_role or Role.USER)
    audit = record_audit(
        db,
        action=AuditAction.LOGIN,
        entity=AuditEntity.SESSION,
        entity_id=target.id,
        occurred_at=utcnow(),
        actor_id=target.id,
        actor_role=target.role.value,
    )
    project = make_project(db, make_user(db, role=Role.MANAGER))
    world = World(caller, target, project, str(audit["_id"]))

    for call in endpoints.calls:
        response = client.get(call.url(world), params=call.params(world), headers=headers)

        if expected_allowed:
            assert response.status_code == 200, (
                f"{role} {standing} GET {call.path}: POLICY allows it, "
                f"got {response.status_code} {response.text}"
            )
            if call.target is not None:
                assert response.json()[call.echo] == call.target(world)
        else:
            assert_problem(response, 403)
