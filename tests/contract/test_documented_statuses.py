"""Every status an operation answers is one its OpenAPI document lists, with the media type and
headers listed for it (SPEC §6).

For every operation of the committed document, over HTTP through the gateway: the success (as
ADMIN), the same request as a USER, no token (`401`), a malformed and an unknown id (`404`), an
invalid query or body (`422`), a stale `If-Match` (`412`), a body over 64 KiB (`413`) and, on
every protected operation that is not a read, the ADMIN's `read`-only access token (`403`), each
where the document lists it. Each answer must be listed for its operation; each of those statuses
the document lists must be what the probe gets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from bson import ObjectId
from pymongo.database import Database

from devtools.lambda_local import bearer
from devtools.openapi import OUTPUT
from tests.e2e.support import expired_access_token, record_audit
from tests.factories import (
    DEFAULT_PASSWORD,
    make_access_token,
    make_project,
    make_task,
    make_user,
)
from tests.webhook_factories import CLOSED_PORT_URL, make_delivery, make_webhook
from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.instants import utcnow
from todo_common.principal import Role, Scope

pytestmark = [pytest.mark.e2e]

DOCUMENT: dict[str, Any] = json.loads(OUTPUT.read_text())
OPERATIONS = [
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    for method in operations
]
OVERSIZED = 70 * 1024
# Creates whose body names another record, so a 404 without a path id: its probe (the request's
# keyword arguments, given the world's ids).
BODY_NAMES_A_RECORD: dict[tuple[str, str], Callable[[dict[str, str]], dict[str, Any]]] = {
    ("POST", "/webhooks"): lambda _ids: {
        "json": {"url": CLOSED_PORT_URL, "events": ["task.created"], "projectId": str(ObjectId())}
    },
}


@dataclass
class World:
    """An ADMIN and a USER signed in, a project, a task and an audit record to point at."""

    admin_email: str
    admin: dict[str, str]
    user: dict[str, str]
    refresh_token: str
    ids: dict[str, str]
    admin_read_token: dict[str, str]  # the headers of the ADMIN's `read`-only access token


@pytest.fixture
def world(db: Database[dict[str, Any]], login: Callable[[str, str], dict[str, Any]]) -> World:
    admin = make_user(db, role=Role.ADMIN)
    member = make_user(db, role=Role.USER)
    project = make_project(db, admin)
    task = make_task(db, project, assignee=member)
    audit = record_audit(
        db,
        action=AuditAction.CREATE,
        entity=AuditEntity.TASK,
        entity_id=task.id,
        occurred_at=utcnow(),
    )
    webhook = make_webhook(db, admin)
    delivery = make_delivery(db, webhook)
    access_token, _ = make_access_token(db, admin, scopes=(Scope.READ, Scope.WRITE))
    _, read_token = make_access_token(db, admin, scopes=(Scope.READ,))
    tokens = login(admin.email, DEFAULT_PASSWORD)
    # A second session of the ADMIN's, for the session routes to end (not the one probing)
    other_session = login(admin.email, DEFAULT_PASSWORD)["access_token"]
    return World(
        admin_email=admin.email,
        admin=bearer(tokens["access_token"]),
        user=bearer(login(member.email, DEFAULT_PASSWORD)["access_token"]),
        refresh_token=tokens["refresh_token"],
        ids={
            "user_id": member.id,
            "project_id": project.id,
            "task_id": task.id,
            "audit_id": str(audit["_id"]),
            "webhook_id": webhook.id,
            "deliveryId": delivery.id,
            "session_id": jwt.decode(other_session, options={"verify_signature": False})["sid"],
            "token_id": access_token.id,
        },
        admin_read_token=bearer(read_token),
    )


def _operation(method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]
    return operation


def _documented(method: str, path: str) -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = _operation(method, path)["responses"]
    return responses


def _success_status(method: str, path: str) -> int:
    (success,) = [int(s) for s in _documented(method, path) if s.startswith("2")]
    return success


def _success_request(method: str, path: str, world: World) -> dict[str, Any]:
    """The keyword arguments of an `httpx` request that succeeds for an ADMIN."""
    ids = world.ids
    now = utcnow()
    requests: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/auth/login"): {
            "json": {"email": world.admin_email, "password": DEFAULT_PASSWORD}
        },
        ("POST", "/auth/token"): {
            "data": {"username": world.admin_email, "password": DEFAULT_PASSWORD}
        },
        ("POST", "/auth/refresh"): {"json": {"refresh_token": world.refresh_token}},
        ("POST", "/users"): {
            "json": {
                "username": "newcomer",
                "email": "newcomer@example.com",
                "fullName": "New Comer",
                "password": "long-enough-1",
            }
        },
        ("PUT", "/users/{user_id}"): {
            "json": {"username": "renamed", "email": "renamed@example.com", "fullName": "Re Named"}
        },
        ("PATCH", "/users/{user_id}"): {"json": {"fullName": "Re Named"}},
        ("POST", "/projects"): {"json": {"name": "Apollo", "description": "to the moon"}},
        ("PUT", "/projects/{project_id}"): {"json": {"name": "Artemis", "description": "again"}},
        ("PATCH", "/projects/{project_id}"): {"json": {"description": "again"}},
        ("POST", "/tasks"): {"json": {"projectId": ids["project_id"], "description": "Land"}},
        ("PUT", "/tasks/{task_id}"): {
            "json": {"projectId": ids["project_id"], "description": "Land", "status": "PENDING"}
        },
        ("PATCH", "/tasks/{task_id}"): {"json": {"description": "Land softly"}},
        ("POST", "/webhooks"): {"json": {"url": CLOSED_PORT_URL, "events": ["task.created"]}},
        ("PATCH", "/webhooks/{webhook_id}"): {"json": {"description": "the CI job"}},
        ("POST", "/auth/tokens"): {
            "json": {
                "name": "CI",
                "scopes": ["read"],
                "expiresAt": (now + timedelta(days=30)).isoformat(),
            }
        },
        ("GET", "/reports/activity"): {
            "params": {"from": (now - timedelta(days=30)).isoformat(), "to": now.isoformat()}
        },
    }
    return requests.get((method, path), {})


def _url(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


def _invalid_query(method: str, path: str) -> dict[str, str] | None:
    """A query parameter whose schema a free text cannot meet (a number, a date, an enum…)."""
    for parameter in _operation(method, path).get("parameters", []):
        schema = json.dumps(parameter["schema"])
        if parameter["in"] == "query" and any(
            word in schema for word in ('"integer"', '"boolean"', "date-time", "$ref", "pattern")
        ):
            return {parameter["name"]: "!!"}
    return None


def _assert_as_documented(response: httpx.Response, method: str, path: str) -> int:
    """The status is listed for the operation, with its media type and headers."""
    documented = _documented(method, path)
    status = str(response.status_code)
    assert status in documented, (
        f"{method} {path} answered {status}, which its document does not list "
        f"({sorted(documented)}): {response.text[:300]}"
    )
    spec = documented[status]
    media_types = list(spec.get("content", {}))
    if media_types:
        received = response.headers.get("content-type", "").split(";")[0]
        assert received in media_types, f"{method} {path} {status}: {received} not {media_types}"
    for header in spec.get("headers", {}):
        if header in {"Idempotent-Replayed", "Link"}:  # only on a replay, a CSV page
            continue
        assert header in response.headers, f"{method} {path} {status} lacks {header}"
    return response.status_code


def _probes(method: str, path: str, world: World) -> Iterator[tuple[str, int | None, Any]]:
    """(what, the status it must get or None for "any listed one", the request's kwargs)."""
    documented = {int(s) for s in _documented(method, path)}
    operation = _operation(method, path)
    ids = world.ids
    success = _success_request(method, path, world)
    protected = "security" in operation
    admin = {"headers": world.admin} if protected else {}
    has_ids = "{" in path
    has_body = "requestBody" in operation

    if protected:
        yield "as a USER", None, {**success, "url": _url(path, ids), "headers": world.user}
        yield "without a token", 401, {**success, "url": _url(path, ids)}
        expired = bearer(expired_access_token(world.admin["Authorization"].split()[1]))
        yield "an expired token", 401, {**success, "url": _url(path, ids), "headers": expired}
        if method not in {"GET", "HEAD"}:
            read_only = {"headers": world.admin_read_token}
            yield "a read-only access token", 403, {**success, **read_only, "url": _url(path, ids)}
    if has_ids:
        for name, value in (("malformed", "not-an-id"), ("unknown", str(ObjectId()))):
            unknown = dict.fromkeys(ids, value)
            yield f"an {name} id", 404, {**success, **admin, "url": _url(path, unknown)}
    if (method, path) in BODY_NAMES_A_RECORD:
        request = BODY_NAMES_A_RECORD[method, path](ids)
        yield "a body naming an unknown record", 404, {**admin, **request, "url": _url(path, ids)}
    if 422 in documented:
        if has_body:
            bad = {"json": {"unknownField": 1}} if "json" in success else {"data": {}}
            yield "an invalid body", 422, {**admin, **bad, "url": _url(path, ids)}
        else:
            query = _invalid_query(method, path)
            assert query is not None, f"{method} {path} lists 422: no query parameter to break"
            yield "an invalid query", 422, {**admin, "params": query, "url": _url(path, ids)}
    if 413 in documented:
        oversized = {"content": b"{" + b" " * OVERSIZED + b"}"}
        headers = {**admin.get("headers", {}), "Content-Type": "application/json"}
        yield "a body over 64 KiB", 413, {"headers": headers, **oversized, "url": _url(path, ids)}
    if 412 in documented:
        headers = {**world.admin, "If-Match": '"999"'}
        yield "a stale If-Match", 412, {**success, "headers": headers, "url": _url(path, ids)}
    yield "the success", _success_status(method, path), {**success, **admin, "url": _url(path, ids)}
    if 304 in documented:
        yield "the ETag just read", 304, {**success, "url": _url(path, ids), "headers": CURRENT}


# Stands for the `ETag` of the answer just before (the success): the copy the caller holds.
CURRENT = {"If-None-Match": "the ETag of the success"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_is_one_the_document_lists(
    api: httpx.Client, world: World, method: str, path: str
) -> None:
    """Given an ADMIN, a USER and records to point at, when each probe runs, then its status is
    the expected one and is listed for the operation with its media type and headers."""
    last = httpx.Response(200)
    for what, expected, kwargs in _probes(method, path, world):
        if kwargs.get("headers") is CURRENT:
            kwargs["headers"] = {**world.admin, "If-None-Match": last.headers["ETag"]}
        response = last = api.request(method, **kwargs)
        status = _assert_as_documented(response, method, path)
        if expected is not None:
            assert status == expected, f"{method} {path}, {what}: {status} {response.text[:300]}"


def test_the_probes_cover_every_listed_status_they_can_provoke() -> None:
    """Every operation lists its success; 401 exactly where it is protected; 404 exactly where
    it takes a path id; 413 exactly where it takes a body; 304 exactly where it reads one
    record."""
    for method, path in OPERATIONS:
        operation = _operation(method, path)
        documented = {int(s) for s in operation["responses"]}
        assert ("security" in operation) == (401 in documented) or path.startswith("/auth/")
        names_a_record = "{" in path or (method, path) in BODY_NAMES_A_RECORD
        assert names_a_record == (404 in documented), (method, path)
        assert ("requestBody" in operation) == (413 in documented), (method, path)
        assert any(200 <= s < 300 for s in documented), (method, path)
        success = operation["responses"][str(_success_status(method, path))]
        one_record = method == "GET" and "ETag" in success.get("headers", {})
        assert one_record == (304 in documented), (method, path)
