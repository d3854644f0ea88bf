"""Audit records are append-only (SPEC §7): no route changes or removes one. Over HTTP, a write to
/audits or /audits/{id} matches no route of `template.yaml`, so it reaches the `$default` route,
which answers `405` problem+json with `Allow: GET` (the paths exist, for reading), and the record
stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from devtools.template import load_template
from tests.e2e.conftest import ROOT
from tests.e2e.support import assert_problem, record_audit
from todo_common.audit.events import AuditAction, AuditEntity, Change
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
TAMPERED: dict[str, Any] = {"action": "LOGIN", "detail": "TAMPERED", "actorId": None, "changes": {}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/audits/{id}"),
        ("PATCH", "/audits/{id}"),
        ("DELETE", "/audits/{id}"),
        ("POST", "/audits/{id}"),
        ("POST", "/audits"),
        ("PUT", "/audits"),
        ("DELETE", "/audits"),
    ],
)
def test_given_an_audit_record_when_an_admin_tries_to_write_the_trail_then_no_route_and_nothing_changes(  # noqa: E501
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    method: str,
    path: str,
) -> None:
    admin, headers = user_with_token(Role.ADMIN)
    stored = record_audit(
        db,
        action=AuditAction.UPDATE,
        entity=AuditEntity.TASK,
        entity_id="64b000000000000000000001",
        occurred_at=utcnow(),
        actor_id=admin.id,
        actor_role=admin.role.value,
        detail="COMPLETE_TASK",
        changes={"status": Change(from_="ASSIGNED", to="COMPLETED")},
    )
    record_id = str(stored["_id"])
    before = client.get(f"/audits/{record_id}", headers=headers)
    assert before.status_code == 200, before.text

    response = client.request(
        method, path.format(id=record_id), json={**TAMPERED, "id": record_id}, headers=headers
    )

    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"
    after = client.get(f"/audits/{record_id}", headers=headers)
    assert after.json() == before.json()
    assert db["audits"].find_one({"_id": stored["_id"]}) == stored


def test_the_template_routes_nothing_but_reads_to_the_trail() -> None:
    """Every method, not only those sent above: whatever route would match an audit path is GET."""
    template = load_template(ROOT / "template.yaml")

    for path in ("/audits", f"/audits/{ObjectId()}"):
        methods = {route.method for route in template.routes if route.pattern.fullmatch(path)}

        assert methods == {"GET"}, f"{path}: {methods}"
