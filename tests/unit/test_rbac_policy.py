"""The RBAC policy is the table of SPEC §5, cell for cell.

The table below is copied verbatim from SPEC.md §5 and is this test's own data: a reviewer diffs it
against the spec, and every assertion compares the code's `POLICY` with it. The `authorize` cases
are generated from `POLICY` (every action × role × combination of relations), so a new action is
tested the moment it is added, while the expected outcome always comes from the spec's table.
"""

from __future__ import annotations

import itertools
import re

import pytest

from todo_common.errors import Forbidden
from todo_common.principal import Principal, Role
from todo_common.rbac import (
    ADMIN_ONLY_FIELDS,
    POLICY,
    Action,
    Grant,
    Relation,
    Resource,
    authorize,
    authorize_fields,
    owner_relation,
    sees_inactive,
    task_relations,
)

SPEC_TABLE = """
| `POST /users` | yes | 403 | 403 |
| `GET /users` (directory; filters `role, isActive, q`) | yes | yes (active users) | 403 |
| `GET /users/{id}` | yes | own | own |
| `PUT/PATCH /users/{id}` | yes | own | own |
| `DELETE /users/{id}` | yes | own | own |
| `POST /users/{id}/restore` | yes | 403 | 403 |
| `POST /projects` | yes (any active MANAGER/ADMIN as `ownerId`, default self) | yes (owner = self) | 403 |
| `GET /projects`, `GET /projects/{id}` | yes | yes | yes |
| `PUT/PATCH/DELETE /projects/{id}`, `POST /projects/{id}/restore` | yes | own | 403 |
| `POST /tasks` | yes | own project | 403 |
| `GET /tasks`, `GET /tasks/{id}` | yes | yes | yes |
| `PUT/PATCH /tasks/{id}` | yes | own project | assignee: `status` only |
| `DELETE /tasks/{id}`, `POST /tasks/{id}/restore` | yes | own project | 403 |
| `GET /audits`, `GET /audits/{id}` | yes | 403 | 403 |
| `GET /reports/projects/{id}/summary` | yes | yes | yes |
| `GET /reports/users/{id}/workload` | yes | yes | own |
| `GET /reports/activity` | yes | 403 | 403 |
"""  # noqa: E501 - verbatim rows of the spec

# Webhooks (issue 20, which SPEC §7 names): the rows the API section gives, in the
# spec's form, until SPEC §5 lists them.
WEBHOOK_TABLE = """
| `POST /webhooks` | yes | yes (owner = self) | 403 |
| `GET /webhooks` | yes | yes (owner = self) | 403 |
| `GET /webhooks/{id}`, `GET /webhooks/{id}/deliveries` | yes | own | 403 |
| `PATCH/DELETE /webhooks/{id}`, `POST /webhooks/{id}/restore`, `POST /webhooks/{id}/rotate-secret`, `POST /webhooks/{id}/ping`, `POST /webhooks/{id}/deliveries/{deliveryId}/redeliver` | yes | own | 403 |
"""  # noqa: E501 - rows in the spec's form

# Session control (issue 21.2): the caller's own sessions; an ADMIN anyone's.
SESSION_TABLE = """
| `GET /auth/sessions` | yes | own | own |
| `DELETE /auth/sessions/{id}` | yes | own | own |
| `DELETE /auth/sessions` | yes | yes | yes |
"""

# Personal access tokens (issue 21.1): the caller's own tokens; an ADMIN anyone's.
TOKEN_TABLE = """
| `POST /auth/tokens` | yes | yes | yes |
| `GET /auth/tokens` | yes | own | own |
| `GET /auth/tokens/{id}` | yes | own | own |
| `DELETE /auth/tokens/{id}` | yes | own | own |
"""

# How each cell of the spec reads as a grant. The remarks after "yes" are rules the services
# enforce on top (which ownerId an ADMIN may choose); for the access decision they are a plain yes,
# except the two that restrict what the caller gets.
CELL_MEANING: dict[str, Grant] = {
    "yes": Grant.YES,
    "403": Grant.NO,
    "own": Grant.OWN,
    "own project": Grant.OWN_PROJECT,
    "assignee: status only": Grant.ASSIGNEE_STATUS,
    "yes (active users)": Grant.ACTIVE_ONLY,
    "yes (owner = self)": Grant.SELF_OWNED,
    "yes (any active MANAGER/ADMIN as ownerId, default self)": Grant.YES,
}

# The relation to the record a cell demands before it lets the caller through (SPEC §5: "own"
# is the caller's own record or project, or a task of an own project; "assignee" the task's one).
NEEDED_RELATION: dict[Grant, Relation | None] = {
    Grant.YES: None,
    Grant.ACTIVE_ONLY: None,
    Grant.SELF_OWNED: None,
    Grant.OWN: Relation.OWNER,
    Grant.OWN_PROJECT: Relation.OWNER,
    Grant.ASSIGNEE_STATUS: Relation.ASSIGNEE,
}

ROLE_COLUMNS = (Role.ADMIN, Role.MANAGER, Role.USER)


def _endpoint(cell: str) -> str:
    """`GET /users` (directory; …) → GET /users: the endpoint without markup or remarks."""
    return re.sub(r"\s*\(.*\)$", "", cell).replace("`", "").strip()


def _spec_rows() -> dict[str, dict[Role, Grant]]:
    rows: dict[str, dict[Role, Grant]] = {}
    for line in "\n".join(
        t.strip() for t in (SPEC_TABLE, WEBHOOK_TABLE, SESSION_TABLE, TOKEN_TABLE)
    ).splitlines():
        endpoint, *cells = (cell.strip() for cell in line.strip().strip("|").split("|"))
        grants = [CELL_MEANING[cell.replace("`", "")] for cell in cells]
        rows[_endpoint(endpoint)] = dict(zip(ROLE_COLUMNS, grants, strict=True))
    return rows


SPEC_POLICY = _spec_rows()
ALL_RELATION_SETS = [
    frozenset(combination)
    for size in range(len(Relation) + 1)
    for combination in itertools.combinations(Relation, size)
]


def _principal(role: Role) -> Principal:
    return Principal(user_id="64b000000000000000000001", role=role, session_id="session-1")


def _label(relations: frozenset[Relation]) -> str:
    return "+".join(sorted(relations)) or "no-relation"


def test_the_spec_table_has_seventeen_rows_webhooks_four_sessions_three_tokens_four() -> None:
    """Guards the transcription itself: a row lost while copying would hide a missing action."""
    assert len(SPEC_POLICY) == 17 + 4 + 3 + 4


@pytest.mark.parametrize("endpoint", list(SPEC_POLICY))
def test_given_a_row_of_the_spec_table_then_policy_grants_exactly_its_cells(endpoint: str) -> None:
    action = Action(endpoint)  # ValueError here means the row has no action at all

    assert dict(POLICY[action]) == SPEC_POLICY[endpoint]


def test_policy_has_no_action_the_spec_table_does_not_list() -> None:
    assert {action.value for action in POLICY} == set(SPEC_POLICY)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(POLICY))
@pytest.mark.parametrize("relations", ALL_RELATION_SETS, ids=_label)
def test_authorize_follows_the_spec_cell_for_action_role_and_relation(
    action: Action, role: Role, relations: frozenset[Relation]
) -> None:
    """Given a caller of `role` standing in `relations` to the record, when they attempt
    `action`, then they get the cell's grant, or 403 where the cell says 403 or where the cell
    needs a relation (own, own project, assignee) the caller does not have.
    """
    cell = SPEC_POLICY[action.value][role]
    needed = NEEDED_RELATION.get(cell)
    should_pass = cell is not Grant.NO and (needed is None or needed in relations)

    if should_pass:
        assert authorize(action, _principal(role), relations) is cell
    else:
        with pytest.raises(Forbidden) as refused:
            authorize(action, _principal(role), relations)
        assert refused.value.status == 403


@pytest.mark.parametrize(
    ("action", "role"),
    [
        (action, role)
        for action, row in SPEC_POLICY.items()
        for role, grant in row.items()
        if NEEDED_RELATION.get(grant) is not None
    ],
)
def test_given_an_ownership_cell_when_no_relation_is_passed_then_it_is_forbidden(
    action: str, role: Role
) -> None:
    """The default (no relation given) is the safe one: a service that forgets it gets a 403."""
    with pytest.raises(Forbidden):
        authorize(Action(action), _principal(role))


def test_given_a_user_who_is_owner_but_not_assignee_then_they_may_not_update_the_task() -> None:
    """Being "owner" (of a project) is not what USER's cell asks for: only the assignee may."""
    with pytest.raises(Forbidden):
        authorize(Action.TASKS_UPDATE, _principal(Role.USER), frozenset({Relation.OWNER}))


def test_given_a_manager_who_is_only_the_assignee_then_they_may_not_update_the_task() -> None:
    """MANAGER's cell is "own project": being the assignee of someone else's task is not enough."""
    with pytest.raises(Forbidden):
        authorize(Action.TASKS_UPDATE, _principal(Role.MANAGER), frozenset({Relation.ASSIGNEE}))


# --- the rules that go with the table (SPEC §5), as rows ----------------------------------------

# "Inactive records are visible only to ADMIN (and to the project's owner for its tasks)"; a
# project's owner also sees the deleted project itself, or they could not restore it.
ALWAYS, NEVER = "always", "never"
INACTIVE_VISIBLE: dict[Resource, dict[Role, Relation | str]] = {
    # resource          ADMIN               MANAGER                        USER
    Resource.USER:    {Role.ADMIN: ALWAYS, Role.MANAGER: NEVER,          Role.USER: NEVER},
    Resource.PROJECT: {Role.ADMIN: ALWAYS, Role.MANAGER: Relation.OWNER, Role.USER: Relation.OWNER},
    Resource.TASK:    {Role.ADMIN: ALWAYS, Role.MANAGER: Relation.OWNER, Role.USER: Relation.OWNER},
    Resource.WEBHOOK: {Role.ADMIN: ALWAYS, Role.MANAGER: Relation.OWNER, Role.USER: Relation.OWNER},
}  # fmt: skip

# "Only ADMIN changes `role` or `isActive`, or a project's `ownerId`."
SPEC_ADMIN_ONLY = {
    Resource.USER: {"role", "isActive"},
    Resource.PROJECT: {"ownerId"},
    Resource.TASK: set(),
    Resource.WEBHOOK: set(),
}
# Fields a client may send per resource (camelCase), to generate the field cases from.
WRITABLE = {
    Resource.USER: {"username", "email", "fullName", "password", "role", "isActive"},
    Resource.PROJECT: {"name", "description", "ownerId"},
    Resource.TASK: {"projectId", "description", "assignedTo", "status", "dueDate"},
    Resource.WEBHOOK: {"url", "events", "description", "enabled"},
}


@pytest.mark.parametrize("resource", list(Resource))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("relations", ALL_RELATION_SETS, ids=_label)
def test_an_inactive_record_is_seen_by_an_admin_and_by_the_relation_the_rules_name(
    resource: Resource, role: Role, relations: frozenset[Relation]
) -> None:
    needed = INACTIVE_VISIBLE[resource][role]
    expected = needed == ALWAYS or (isinstance(needed, Relation) and needed in relations)
    assert sees_inactive(_principal(role), resource, relations) is expected


def test_the_admin_only_fields_are_those_the_spec_names() -> None:
    assert {r: set(fields) for r, fields in ADMIN_ONLY_FIELDS.items()} == SPEC_ADMIN_ONLY


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("resource", "field"),
    [(resource, field) for resource, fields in WRITABLE.items() for field in sorted(fields)],
)
def test_changing_a_field_is_refused_only_when_the_field_is_admin_only_and_the_caller_no_admin(
    role: Role, resource: Resource, field: str
) -> None:
    refused = field in SPEC_ADMIN_ONLY[resource] and role is not Role.ADMIN
    if refused:
        with pytest.raises(Forbidden):
            authorize_fields(_principal(role), resource, Grant.YES, [field])
    else:
        authorize_fields(_principal(role), resource, Grant.YES, [field])


@pytest.mark.parametrize("field", sorted(WRITABLE[Resource.TASK]))
def test_the_assignee_grant_lets_a_user_change_status_and_nothing_else(field: str) -> None:
    # "PUT/PATCH /tasks/{id}: USER — assignee: `status` only"
    user = _principal(Role.USER)
    if field == "status":
        authorize_fields(user, Resource.TASK, Grant.ASSIGNEE_STATUS, [field])
    else:
        with pytest.raises(Forbidden):
            authorize_fields(user, Resource.TASK, Grant.ASSIGNEE_STATUS, [field, "status"])


@pytest.mark.parametrize("role", list(Role))
def test_the_relations_of_a_caller_to_a_record(role: Role) -> None:
    me = _principal(role)
    other = "64b000000000000000000002"
    assert owner_relation(me, me.user_id) == {Relation.OWNER}
    assert owner_relation(me, other) == frozenset()
    assert owner_relation(me, None) == frozenset()
    assert task_relations(me, me.user_id, me.user_id) == {Relation.OWNER, Relation.ASSIGNEE}
    assert task_relations(me, other, me.user_id) == {Relation.ASSIGNEE}
    assert task_relations(me, other, None) == frozenset()
