"""The access policy of SPEC §5, as one table a reviewer can check line by line.

Every permission and visibility question is answered here, and services only ask:
- `authorize(action, principal, relations)`: may the caller do this (the `POLICY` table);
- `owner_relation` / `task_relations`: how the caller stands to a record;
- `sees_inactive`: who sees a deleted (inactive) record (the `INACTIVE_VISIBLE_TO` table);
- `authorize_fields`: who may set which field (`ADMIN_ONLY_FIELDS`, and the fields a grant such
  as "assignee: status only" limits the caller to);
- `authorize_scope`: what a personal access token's scopes let through, by the request's method
  (asked once, by the dependency that resolves the caller); `require_session`: what only a
  session may do, never a token.
Routes never decide a permission. The same tables generate the RBAC tests, so the code and the
tests cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final

from todo_common.errors import Forbidden
from todo_common.principal import Principal, Role, Scope


class Action(StrEnum):
    USERS_CREATE = "POST /users"
    USERS_LIST = "GET /users"
    USERS_READ = "GET /users/{id}"
    USERS_UPDATE = "PUT/PATCH /users/{id}"
    USERS_DELETE = "DELETE /users/{id}"
    USERS_RESTORE = "POST /users/{id}/restore"
    PROJECTS_CREATE = "POST /projects"
    PROJECTS_READ = "GET /projects, GET /projects/{id}"
    PROJECTS_WRITE = "PUT/PATCH/DELETE /projects/{id}, POST /projects/{id}/restore"
    TASKS_CREATE = "POST /tasks"
    TASKS_READ = "GET /tasks, GET /tasks/{id}"
    TASKS_UPDATE = "PUT/PATCH /tasks/{id}"
    TASKS_DELETE = "DELETE /tasks/{id}, POST /tasks/{id}/restore"
    # Also GET /audits/verify and GET /audits/digests: the trail's integrity, ADMIN only (§7).
    AUDITS_READ = "GET /audits, GET /audits/{id}"
    REPORT_PROJECT_SUMMARY = "GET /reports/projects/{id}/summary"
    REPORT_USER_WORKLOAD = "GET /reports/users/{id}/workload"
    REPORT_ACTIVITY = "GET /reports/activity"
    # Webhooks (issue 20): a MANAGER subscribes to their own projects' events only (the service
    # checks `projectId`); `user.*` events are ADMIN-only (webhooks/events.py).
    WEBHOOKS_CREATE = "POST /webhooks"
    WEBHOOKS_LIST = "GET /webhooks"
    WEBHOOKS_READ = "GET /webhooks/{id}, GET /webhooks/{id}/deliveries"
    WEBHOOKS_WRITE = (
        "PATCH/DELETE /webhooks/{id}, POST /webhooks/{id}/restore, "
        "POST /webhooks/{id}/rotate-secret, POST /webhooks/{id}/ping, "
        "POST /webhooks/{id}/deliveries/{deliveryId}/redeliver"
    )
    # Session control (issue 21.2): "own" is a session of the caller's; someone else's is a 404
    # to a non-ADMIN, so that session ids do not leak.
    SESSIONS_LIST = "GET /auth/sessions"
    SESSIONS_END = "DELETE /auth/sessions/{id}"
    SESSIONS_END_OTHERS = "DELETE /auth/sessions"
    # Personal access tokens (issue 21.1): a token is always its creator's; someone else's is a
    # 404 to a non-ADMIN, as for sessions.
    TOKENS_CREATE = "POST /auth/tokens"
    TOKENS_LIST = "GET /auth/tokens"
    TOKENS_READ = "GET /auth/tokens/{id}"
    TOKENS_REVOKE = "DELETE /auth/tokens/{id}"


class Grant(StrEnum):
    """What a cell of the table says."""

    YES = "yes"
    OWN = "own"  # the caller's own user record or session, or a project the caller owns
    OWN_PROJECT = "own project"  # a task whose project the caller owns
    ASSIGNEE_STATUS = "assignee: status only"  # the task's assignee may change `status` only
    ACTIVE_ONLY = "active records"  # allowed, but sees active records only
    SELF_OWNED = "owner = self"  # may create, but only owned by the caller
    NO = "403"


class Relation(StrEnum):
    """How the caller stands to the record the request is about."""

    NONE = "none"
    OWNER = "owner"  # own record, own project, or a task of an own project
    ASSIGNEE = "assignee"


class Resource(StrEnum):
    USER = "user"
    PROJECT = "project"
    TASK = "task"
    WEBHOOK = "webhook"


A, M, U = Role.ADMIN, Role.MANAGER, Role.USER
Y, N = Grant.YES, Grant.NO

POLICY: Final[Mapping[Action, Mapping[Role, Grant]]] = {
    #  action                           ADMIN   MANAGER            USER
    Action.USERS_CREATE:           {A: Y, M: N,                 U: N},
    Action.USERS_LIST:             {A: Y, M: Grant.ACTIVE_ONLY, U: N},
    Action.USERS_READ:             {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.USERS_UPDATE:           {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.USERS_DELETE:           {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.USERS_RESTORE:          {A: Y, M: N,                 U: N},
    Action.PROJECTS_CREATE:        {A: Y, M: Grant.SELF_OWNED,  U: N},
    Action.PROJECTS_READ:          {A: Y, M: Y,                 U: Y},
    Action.PROJECTS_WRITE:         {A: Y, M: Grant.OWN,         U: N},
    Action.TASKS_CREATE:           {A: Y, M: Grant.OWN_PROJECT, U: N},
    Action.TASKS_READ:             {A: Y, M: Y,                 U: Y},
    Action.TASKS_UPDATE:           {A: Y, M: Grant.OWN_PROJECT, U: Grant.ASSIGNEE_STATUS},
    Action.TASKS_DELETE:           {A: Y, M: Grant.OWN_PROJECT, U: N},
    Action.AUDITS_READ:            {A: Y, M: N,                 U: N},
    Action.REPORT_PROJECT_SUMMARY: {A: Y, M: Y,                 U: Y},
    Action.REPORT_USER_WORKLOAD:   {A: Y, M: Y,                 U: Grant.OWN},
    Action.REPORT_ACTIVITY:        {A: Y, M: N,                 U: N},
    # A MANAGER lists and creates subscriptions owned by themselves only.
    Action.WEBHOOKS_CREATE:        {A: Y, M: Grant.SELF_OWNED,  U: N},
    Action.WEBHOOKS_LIST:          {A: Y, M: Grant.SELF_OWNED,  U: N},
    Action.WEBHOOKS_READ:          {A: Y, M: Grant.OWN,         U: N},
    Action.WEBHOOKS_WRITE:         {A: Y, M: Grant.OWN,         U: N},
    Action.SESSIONS_LIST:          {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.SESSIONS_END:           {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.SESSIONS_END_OTHERS:    {A: Y, M: Y,                 U: Y},
    Action.TOKENS_CREATE:          {A: Y, M: Y,                 U: Y},
    Action.TOKENS_LIST:            {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.TOKENS_READ:            {A: Y, M: Grant.OWN,         U: Grant.OWN},
    Action.TOKENS_REVOKE:          {A: Y, M: Grant.OWN,         U: Grant.OWN},
}  # fmt: skip

_NEEDS: Final[Mapping[Grant, Relation | None]] = {
    Grant.YES: None,
    Grant.ACTIVE_ONLY: None,
    Grant.SELF_OWNED: None,
    Grant.OWN: Relation.OWNER,
    Grant.OWN_PROJECT: Relation.OWNER,
    Grant.ASSIGNEE_STATUS: Relation.ASSIGNEE,
}


def allows(grant: Grant, relations: frozenset[Relation]) -> bool:
    """Whether `grant` lets a caller standing in `relations` to the record through."""
    if grant is Grant.NO:
        return False
    needed = _NEEDS[grant]
    return needed is None or needed in relations


def authorize(
    action: Action, principal: Principal, relations: frozenset[Relation] = frozenset()
) -> Grant:
    """Return the caller's grant for `action`, or raise `Forbidden` when the table says no.

    The grant tells the service which restriction applies (active records only, status only…).
    """
    grant = POLICY[action][principal.role]
    if not allows(grant, relations):
        raise Forbidden(f"A {principal.role.value} may not do {action.value} here")
    return grant


# Who sees an inactive (soft-deleted) record besides an ADMIN: a project's owner sees their
# project and its tasks (to restore them); an inactive user is seen by ADMINs only.
INACTIVE_VISIBLE_TO: Final[Mapping[Resource, frozenset[Relation]]] = {
    Resource.USER: frozenset(),
    Resource.PROJECT: frozenset({Relation.OWNER}),
    Resource.TASK: frozenset({Relation.OWNER}),
    Resource.WEBHOOK: frozenset({Relation.OWNER}),
}

# Fields (public camelCase names) only an ADMIN may change; anyone else sending a different value
# gets 403, never a silent ignore (SPEC §5).
ADMIN_ONLY_FIELDS: Final[Mapping[Resource, frozenset[str]]] = {
    Resource.USER: frozenset({"role", "isActive"}),
    Resource.PROJECT: frozenset({"ownerId"}),
    Resource.TASK: frozenset(),
    Resource.WEBHOOK: frozenset(),
}

# Grants that let the caller change some fields only.
FIELDS_OF_GRANT: Final[Mapping[Grant, frozenset[str]]] = {
    Grant.ASSIGNEE_STATUS: frozenset({"status"}),
}


def owner_relation(principal: Principal, owner_id: str | None) -> frozenset[Relation]:
    """OWNER when `owner_id` (a user's own id, or a project's `ownerId`) is the caller."""
    return frozenset({Relation.OWNER}) if owner_id == principal.user_id else frozenset()


def task_relations(
    principal: Principal, project_owner_id: str, assigned_to: str | None
) -> frozenset[Relation]:
    """OWNER of a task whose project the caller owns; ASSIGNEE of a task assigned to them."""
    relations = owner_relation(principal, project_owner_id)
    if assigned_to is not None and assigned_to == principal.user_id:
        relations |= {Relation.ASSIGNEE}
    return relations


def sees_inactive(principal: Principal, resource: Resource, relations: frozenset[Relation]) -> bool:
    """Whether the caller may see an inactive record of `resource` (else it is a 404)."""
    return principal.role is Role.ADMIN or bool(INACTIVE_VISIBLE_TO[resource] & relations)


def authorize_fields(
    principal: Principal, resource: Resource, grant: Grant, fields: Iterable[str]
) -> None:
    """Raise `Forbidden` when `fields` (camelCase, the ones the request changes) include one the
    caller may not set: an ADMIN-only field, or one outside what the caller's grant allows."""
    changing = frozenset(fields)
    admin_only = changing & ADMIN_ONLY_FIELDS[resource]
    if admin_only and principal.role is not Role.ADMIN:
        raise Forbidden(f"Only an ADMIN may change {', '.join(sorted(admin_only))}")
    allowed = FIELDS_OF_GRANT.get(grant)
    if allowed is not None and changing - allowed:
        raise Forbidden(
            f"As the assignee you may change {', '.join(sorted(allowed))} only, "
            f"not {', '.join(sorted(changing - allowed))}"
        )


# What a personal access token's scopes let through (issue 21.1), by the request's method: a
# read (GET, HEAD) needs any scope (`write` includes reading), anything else `write`. Asked once,
# by the dependency that resolves the caller, so no route can forget it. A token never grants
# more than its owner's role allows: the table above still decides, for the owner's role now.
READ_METHODS = frozenset({"GET", "HEAD"})


def authorize_scope(principal: Principal, method: str) -> None:
    """Raise `Forbidden`, naming the missing scope, when the caller's token lacks the scope a
    request of `method` needs (a session has every scope)."""
    if method.upper() in READ_METHODS or Scope.WRITE in principal.scopes:
        return
    raise Forbidden(
        f"This access token lacks the `{Scope.WRITE.value}` scope, which {method.upper()} needs; "
        f"it has {', '.join(f'`{s.value}`' for s in sorted(principal.scopes)) or 'none'}"
    )


def require_session(principal: Principal, what: str) -> str:
    """The caller's session id; `Forbidden` when they came with an access token: `what`
    (creating a token, changing a password or a role, ending sessions) needs someone who
    logged in."""
    if principal.via_token or principal.session_id is None:
        raise Forbidden(f"{what} needs a session (log in); an access token cannot do it")
    return principal.session_id
