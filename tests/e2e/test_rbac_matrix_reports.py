"""The audits and reports rows of SPEC §5, generated from `todo_common.rbac.POLICY`, over HTTP.

For every AUDITS_* and REPORT_* action, every role and, for the workload, every standing towards
the user it is about (the caller themself, or another user of each role), the expectation is
`allows(POLICY[action][role], relations)`, and every request of the action must answer
accordingly: 200 with a body about the record asked for, or a 403 problem (`tests.e2e.rbac_matrix`
runs it). `ENDPOINTS`, which turns an action into requests, is the hand-written part; an action
without an entry there fails the suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import pytest
from pymongo.database import Database

from tests.e2e.rbac_matrix import Call as GenericCall
from tests.e2e.rbac_matrix import (
    Endpoints,
    PolicyMatrix,
    PolicyMatrixTests,
    Standing,
    towards_a_user,
)
from tests.e2e.support import projects_and_tasks, record_audit, users_state
from tests.factories import make_project, make_user
from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.rbac import Action
from todo_common.records import Project, User

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class World:
    """What one request is made against: the caller and the records the paths name."""

    caller: User
    target_user: User  # whose workload is asked for
    project: Project  # another MANAGER's project, for its summary
    audit_id: str  # a stored audit record

    def ids(self) -> dict[str, str]:
        return {"user": self.target_user.id, "project": self.project.id, "audit": self.audit_id}


Call = GenericCall[World]


def _last_day(_: World) -> dict[str, str]:
    now = utcnow()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}


# The one hand-written table: which requests exercise each action (all GETs); on success the
# body's `echo` member names the record of the path.
ENDPOINTS: Final[Mapping[Action, Endpoints[World]]] = {
    Action.AUDITS_READ: Endpoints(
        (
            Call("GET", "/audits", 200),
            Call("GET", "/audits/{audit}", 200, echo="id"),
            Call("GET", "/audits/verify", 200, params=_last_day),
            Call("GET", "/audits/digests", 200),
        )
    ),
    Action.REPORT_PROJECT_SUMMARY: Endpoints(
        (Call("GET", "/reports/projects/{project}/summary", 200, echo="projectId"),)
    ),
    Action.REPORT_USER_WORKLOAD: Endpoints(
        (Call("GET", "/reports/users/{user}/workload", 200, echo="userId"),), towards_a_user()
    ),
    Action.REPORT_ACTIVITY: Endpoints((Call("GET", "/reports/activity", 200, params=_last_day),)),
}


def _world(db: Database[dict[str, Any]], caller: User, standing: Standing, _: Call) -> World:
    target = caller if standing.owner else make_user(db, role=standing.other_role or Role.USER)
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
    return World(caller, target, project, str(audit["_id"]))


def _records(db: Database[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The users, projects and tasks (not the audit trail, which the worker fills meanwhile)."""
    return {"users": users_state(db), **projects_and_tasks(db)}


class TestAuditsAndReportsRows(PolicyMatrixTests):
    matrix = PolicyMatrix(("AUDITS_", "REPORT_"), ENDPOINTS, world=_world, state=_records)
