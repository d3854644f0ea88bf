"""The RBAC matrix of SPEC §5, generated from `todo_common.rbac.POLICY` and checked over HTTP.

A test module covers a group of actions (by name prefix). For every action, every role and every
standing the action's endpoints vary (the caller's own record or someone else's, a project they
own or not, a task assigned to them or not), the expectation is `allows(POLICY[action][role],
relations)`, and every request of the action must answer accordingly: its success status, or a
refusal (403 problem+json) that changes nothing. The module writes only `ENDPOINTS`, which turns an
action into requests, and the world those requests are made against; a subclass of
`PolicyMatrixTests` naming its `PolicyMatrix` runs the rest:

- `test_every_action_has_a_policy_row_and_endpoints`: an action added to `Action` without a POLICY
  row, a role, or an ENDPOINTS entry fails the suite;
- `test_the_matrix_exercises_both_outcomes`: a table that only ever expects success (or refusal)
  proves nothing;
- `test_given_role_and_standing_when_calling_the_action_then_the_policy_decides`: the cases.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
import pytest
from _pytest.mark import ParameterSet
from pymongo.database import Database

from tests.e2e.support import assert_problem
from todo_common.principal import Role
from todo_common.rbac import POLICY, Action, Grant, Relation, Resource, allows
from todo_common.records import User

UserWithToken = Callable[..., tuple[User, dict[str, str]]]


class World(Protocol):
    """What one request is made against: the stored records its path and body name."""

    def ids(self) -> Mapping[str, str]:
        """The ids the path's `{fields}` stand for, by field name."""
        ...


W = TypeVar("W", bound=World)


@dataclass(frozen=True)
class Standing:
    """How the caller stands to the record a request is about (`about`; None for a create or a
    list, which is about no record)."""

    label: str
    about: Resource | None = None
    relations: frozenset[Relation] = frozenset()
    other_role: Role | None = None  # someone else's user record: that user's role

    @property
    def owner(self) -> bool:
        return Relation.OWNER in self.relations

    @property
    def assignee(self) -> bool:
        return Relation.ASSIGNEE in self.relations

    def __str__(self) -> str:
        return self.label


NO_RECORD = (Standing("no-record"),)
_OWNER = frozenset({Relation.OWNER})


def towards_a_user() -> tuple[Standing, ...]:
    """The caller's own user record, or another user's of each role."""
    others = (Standing(f"other-{role}", Resource.USER, other_role=role) for role in Role)
    return (Standing("own", Resource.USER, _OWNER), *others)


def towards_a_project(about: Resource, *, by_assignee: bool = False) -> tuple[Standing, ...]:
    """A project (or a task of a project, `about`) the caller owns or not; with `by_assignee`,
    also a task assigned to the caller or not."""
    assignee = (False, True) if by_assignee else (False,)
    return tuple(
        Standing(
            f"{project}-assignee" if assigned else project,
            about,
            (_OWNER if owner else frozenset()) | ({Relation.ASSIGNEE} if assigned else set()),
        )
        for owner, project in ((True, "own-project"), (False, "others-project"))
        for assigned in assignee
    )


def _no_body(_: object) -> None:
    return None


def _no_params(_: object) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Call(Generic[W]):
    """One request of an action; `{field}`s in the path are the world's `ids()`."""

    method: str
    path: str
    success: int
    body: Callable[[W], dict[str, Any] | None] = _no_body
    params: Callable[[W], dict[str, str]] = _no_params
    deleted_target: bool = False  # the target starts soft-deleted (there is something to restore)
    # Grants that let the action through but not this request (e.g. the assignee's status-only
    # grant and a description change): under them it is refused although `allows` is true.
    beyond: frozenset[Grant] = frozenset()
    echo: str | None = None  # on success, the body member that names the record of the path

    def url(self, world: W) -> str:
        return self.path.format(**world.ids())

    def named_record(self, world: W) -> str:
        """The id of the one record the path names."""
        fields = [name for _, name, _, _ in string.Formatter().parse(self.path) if name]
        assert len(fields) == 1, f"{self.path} names {len(fields)} records, not one"
        return world.ids()[fields[0]]


@dataclass(frozen=True)
class Endpoints(Generic[W]):
    """The requests that exercise an action, and the standings towards their record to vary."""

    calls: tuple[Call[W], ...]
    standings: tuple[Standing, ...] = NO_RECORD


def _always_403(_role: Role, _standing: Standing, _call: Call[Any]) -> int:
    return 403


@dataclass(frozen=True)
class PolicyMatrix(Generic[W]):
    """The actions named by `prefixes`, the requests that exercise them, and how to run one.

    `world` stores fresh records for one request (against the caller, as the standing says);
    `state` snapshots what a refused request must leave alone; `refusal_status` is the status
    of a refusal (403 unless a group hides some records); with `writes_change_state`, a
    successful request other than a GET must change `state`.
    """

    prefixes: tuple[str, ...]
    endpoints: Mapping[Action, Endpoints[W]]
    world: Callable[[Database[dict[str, Any]], User, Standing, Call[W]], W]
    state: Callable[[Database[dict[str, Any]]], object]
    refusal_status: Callable[[Role, Standing, Call[W]], int] = _always_403
    writes_change_state: bool = False

    def actions(self) -> list[Action]:
        return [action for action in Action if action.name.startswith(self.prefixes)]

    def standings(self, action: Action) -> tuple[Standing, ...]:
        endpoints = self.endpoints.get(action)
        return endpoints.standings if endpoints is not None else NO_RECORD

    def cases(self) -> list[ParameterSet]:
        """Every action of the group with a POLICY row × role × standing."""
        return [
            pytest.param(action, role, standing, id=f"{action.name}-{role}-{standing}")
            for action in POLICY
            if action.name.startswith(self.prefixes)
            for role in Role
            for standing in self.standings(action)
        ]

    def expects_success(
        self, action: Action, role: Role, standing: Standing, call: Call[W]
    ) -> bool:
        grant = POLICY[action][role]
        return allows(grant, standing.relations) and grant not in call.beyond

    def assert_covers_the_policy(self) -> None:
        actions = set(self.actions())

        for prefix in self.prefixes:
            assert any(a.name.startswith(prefix) for a in actions), f"no {prefix} action at all"
        assert actions - POLICY.keys() == set(), "actions without a POLICY row"
        assert actions - self.endpoints.keys() == set(), "actions without requests in ENDPOINTS"
        assert self.endpoints.keys() - actions == set(), "ENDPOINTS maps actions that do not exist"
        for action in actions:
            assert POLICY[action].keys() == set(Role), f"{action.name} lacks a role"

    def assert_exercises_both_outcomes(self) -> None:
        """Success and refusal both occur, and so they do for requests beyond a grant, if any."""
        outcomes = {
            (self.expects_success(action, role, standing, call), call.beyond != frozenset())
            for action, endpoints in self.endpoints.items()
            for role in Role
            for standing in endpoints.standings
            for call in endpoints.calls
        }

        assert {(True, False), (False, False)} <= outcomes
        if any(beyond for _, beyond in outcomes):
            assert {(True, True), (False, True)} <= outcomes

    def check(
        self,
        client: httpx.Client,
        db: Database[dict[str, Any]],
        user_with_token: UserWithToken,
        action: Action,
        role: Role,
        standing: Standing,
    ) -> None:
        """Make each request of `action` as a caller of `role` standing so to a fresh record,
        and check the answer (and the stored data) against the policy."""
        endpoints = self.endpoints.get(action)
        if endpoints is None:
            pytest.fail(f"{action.name} has no requests in ENDPOINTS; add them")
        caller, headers = user_with_token(role)

        for call in endpoints.calls:
            world = self.world(db, caller, standing, call)
            body = call.body(world)
            before = self.state(db)

            response = client.request(
                call.method, call.url(world), params=call.params(world), json=body, headers=headers
            )

            label = f"{role} {standing} {call.method} {call.path} {body}"
            if self.expects_success(action, role, standing, call):
                assert response.status_code == call.success, (
                    f"{label}: POLICY allows it, got {response.status_code} {response.text}"
                )
                if call.echo is not None:
                    assert response.json()[call.echo] == call.named_record(world), label
                if self.writes_change_state and call.method != "GET":
                    assert self.state(db) != before, f"{label}: succeeded but changed nothing"
            else:
                assert_problem(response, self.refusal_status(role, standing, call))
                assert self.state(db) == before, f"{label}: refused but changed the data"


class PolicyMatrixTests:
    """The matrix tests of one group: subclass it (as `Test…`) and set `matrix`."""

    matrix: ClassVar[PolicyMatrix[Any]]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "standing" in metafunc.fixturenames:
            metafunc.parametrize(("action", "role", "standing"), self.matrix.cases())

    def test_every_action_has_a_policy_row_and_endpoints(self) -> None:
        """An action added to `Action` without a POLICY row or an ENDPOINTS entry fails here."""
        self.matrix.assert_covers_the_policy()

    def test_the_matrix_exercises_both_outcomes(self) -> None:
        """Guards the generator: a table that only ever expects 2xx (or 403) proves nothing."""
        self.matrix.assert_exercises_both_outcomes()

    def test_given_role_and_standing_when_calling_the_action_then_the_policy_decides(
        self,
        client: httpx.Client,
        db: Database[dict[str, Any]],
        user_with_token: UserWithToken,
        action: Action,
        role: Role,
        standing: Standing,
    ) -> None:
        self.matrix.check(client, db, user_with_token, action, role, standing)
