"""The audit read API through the real reports handler (SPEC §6, §7): filters, newest first,
cursor pages, one record, the same page as CSV, and no way to change or delete a record.

Records are written with `AuditRepository.record`, as the consumer writes them; every expected
page is computed from the events in Python.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from pymongo.database import Database

from devtools.gateway import LocalGateway
from devtools.template import load_template
from tests.factories import audit_event, make_user
from tests.integration.lambda_events import ROOT, LambdaResponse, ReportsApi, session_token
from todo_common import container
from todo_common.principal import Role
from todo_common.records import User
from todo_common.repositories.audits import AuditRepository

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
UNKNOWN_ID = "0123456789abcdef01234567"
T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
FIELDS = {
    "id",
    "eventId",
    "actorId",
    "actorRole",
    "action",
    "entity",
    "entityId",
    "detail",
    "changes",
    "requestId",
    "createdAt",
    "updatedAt",
    "recordedAt",
}
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


@dataclass
class Trail:
    admin: User
    token: str
    events: list[dict[str, Any]]  # as sent, in the order recorded
    ids: dict[str, str]  # eventId -> record id

    def newest_first(self, keep: Any = lambda _: True) -> list[str]:
        """Record ids of the events `keep` accepts, by time descending, later record first on
        a tie (the `_id` tie-breaker)."""
        order = sorted(
            ((e["occurredAt"], n, e) for n, e in enumerate(self.events) if keep(e)),
            key=lambda item: (item[0], item[1]),
            reverse=True,
        )
        return [self.ids[e["eventId"]] for _, _, e in order]


@pytest.fixture
def trail(db: Db, clean: None) -> Trail:
    """Fourteen records: three actors and a failed login, every entity, three records of one
    task, two pairs recorded at the same instant (3 h and 26 h), over three days."""
    admin = make_user(db, role=Role.ADMIN)
    manager = make_user(db, role=Role.MANAGER)
    user = make_user(db)
    a, m, u = admin, manager, user
    task, project = "6a0000000000000000000001", "6a0000000000000000000002"
    nobody = "nobody@example.com"
    redacted = {"from": "[redacted]", "to": "[redacted]"}
    done = {"status": {"from": "ASSIGNED", "to": "COMPLETED"}}
    # hours after T0, actor, action, entity, entityId, detail (None: <ACTION>_<ENTITY>), changes
    plan: list[tuple[int, User | None, str, str, str, str | None, dict[str, Any]]] = [
        (0, a, "LOGIN", "SESSION", a.id, "LOGIN", {}),
        (1, a, "CREATE", "USER", m.id, None, {"role": {"from": None, "to": "MANAGER"}}),
        (2, m, "CREATE", "PROJECT", project, None, {"name": {"from": None, "to": 'Q2, "big"'}}),
        (3, m, "CREATE", "TASK", task, None, {}),
        (3, m, "UPDATE", "TASK", task, "ASSIGN_TASK", {"assignedTo": {"from": None, "to": u.id}}),
        (20, None, "LOGIN_FAILED", "SESSION", nobody, "LOGIN_FAILED_UNKNOWN_EMAIL", {}),
        (24, u, "UPDATE", "TASK", task, "COMPLETE_TASK", done),
        (25, u, "UPDATE", "USER", u.id, None, {"password": redacted}),
        (26, m, "DELETE", "PROJECT", project, None, {"isActive": {"from": True, "to": False}}),
        (26, a, "RESTORE", "PROJECT", project, None, {"isActive": {"from": False, "to": True}}),
        (30, u, "LOGOUT", "SESSION", u.id, "LOGOUT", {}),
        (48, a, "TOKEN_REUSE", "SESSION", a.id, "TOKEN_REUSE_SESSION_REVOKED", {}),
        (49, a, "DELETE", "USER", u.id, None, {"isActive": {"from": True, "to": False}}),
        (50, a, "UPDATE", "USER", m.id, None, {"fullName": {"from": "M", "to": "Manager, 1st"}}),
    ]
    events = [
        audit_event(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
            changes=changes,
            occurred_at=T0 + timedelta(hours=hours),
        )
        for hours, actor, action, entity, entity_id, detail, changes in plan
    ]
    audits = AuditRepository(db, container.server())
    assert all(audits.record(event) for event in events)
    ids = {r["eventId"]: str(r["_id"]) for r in db.audits.find()}
    return Trail(admin, session_token(admin), events, ids)


@pytest.fixture
def reports() -> ReportsApi:
    return ReportsApi()


def get(reports: ReportsApi, trail: Trail, path: str, **query: str) -> LambdaResponse:
    return reports.request("GET", path, token=trail.token, query=query)


def ok(response: LambdaResponse) -> dict[str, Any]:
    assert response.status == 200, (response.status, response.body)
    body: dict[str, Any] = response.json()
    return body


def walk(reports: ReportsApi, trail: Trail, limit: int, **query: str) -> list[dict[str, Any]]:
    """Every page of a listing, following nextCursor; each page at most `limit` long."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(50):
        page = ok(
            get(
                reports,
                trail,
                "/audits",
                limit=str(limit),
                **query,
                **({"cursor": cursor} if cursor else {}),
            )
        )
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit
    raise AssertionError("the pages never end")


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


# -- listing ----------------------------------------------------------------------------------


def test_given_records_when_listed_page_by_page_then_all_come_newest_first_each_once(
    trail: Trail, reports: ReportsApi
) -> None:
    items = walk(reports, trail, limit=4)
    assert [i["id"] for i in items] == trail.newest_first()
    assert len(items) == len(trail.events) == 14


def test_given_a_record_when_listed_then_it_shows_the_event_as_sent(
    trail: Trail, reports: ReportsApi
) -> None:
    items = {i["eventId"]: i for i in ok(get(reports, trail, "/audits"))["items"]}
    for event in trail.events:
        item = items[event["eventId"]]
        assert set(item) == FIELDS
        assert {k: item[k] for k in event if k != "occurredAt"} == {
            k: v for k, v in event.items() if k != "occurredAt"
        }
        assert datetime.fromisoformat(item["createdAt"]) == datetime.fromisoformat(
            event["occurredAt"]
        )
        assert item["createdAt"].endswith("Z")
        assert item["updatedAt"] >= item["createdAt"]


FILTERS: dict[str, tuple[dict[str, str], Any]] = {
    "action": ({"action": "UPDATE"}, lambda e, t: e["action"] == "UPDATE"),
    "entity": ({"entity": "SESSION"}, lambda e, t: e["entity"] == "SESSION"),
    "entityId": (
        {"entityId": "6a0000000000000000000001"},
        lambda e, t: e["entityId"] == "6a0000000000000000000001",
    ),
    "entityId of a failed login (an email)": (
        {"entityId": "nobody@example.com"},
        lambda e, t: e["entityId"] == "nobody@example.com",
    ),
    "from (inclusive)": ({"from": iso(T0 + timedelta(hours=24))}, lambda e, t: t >= 24),
    "to (exclusive)": ({"to": iso(T0 + timedelta(hours=26))}, lambda e, t: t < 26),
    "from and to": (
        {"from": iso(T0 + timedelta(hours=3)), "to": iso(T0 + timedelta(hours=30))},
        lambda e, t: 3 <= t < 30,
    ),
    "action and entity": (
        {"action": "CREATE", "entity": "TASK"},
        lambda e, t: (e["action"], e["entity"]) == ("CREATE", "TASK"),
    ),
    "nothing matches": ({"action": "RESTORE", "entity": "TASK"}, lambda e, t: False),
}


def hours_after_t0(event: dict[str, Any]) -> float:
    return (datetime.fromisoformat(event["occurredAt"]) - T0) / timedelta(hours=1)


@pytest.mark.parametrize(("query", "keep"), FILTERS.values(), ids=FILTERS.keys())
def test_given_records_when_listed_with_a_filter_then_exactly_the_matching_ones_newest_first(
    trail: Trail, reports: ReportsApi, query: dict[str, str], keep: Any
) -> None:
    expected = trail.newest_first(lambda e: keep(e, hours_after_t0(e)))
    assert [i["id"] for i in walk(reports, trail, limit=200, **query)] == expected
    assert [i["id"] for i in walk(reports, trail, limit=2, **query)] == expected


def test_given_records_when_listed_by_actor_then_only_that_actors_newest_first(
    trail: Trail, reports: ReportsApi
) -> None:
    manager_id = trail.events[2]["actorId"]
    expected = trail.newest_first(lambda e: e["actorId"] == manager_id)
    assert len(expected) == 4
    assert [i["id"] for i in walk(reports, trail, limit=3, actorId=manager_id)] == expected


@pytest.mark.parametrize(
    "query",
    [
        {"action": "PROMOTE"},
        {"entity": "INVOICE"},
        {"actorId": "not-an-id"},
        {"from": "yesterday"},
        {"limit": "0"},
        {"limit": "201"},
        {"from": iso(T0), "to": iso(T0)},
        {"from": iso(T0 + timedelta(seconds=1)), "to": iso(T0)},
    ],
    ids=str,
)
def test_given_an_invalid_filter_when_listing_then_422(
    trail: Trail, reports: ReportsApi, query: dict[str, str]
) -> None:
    response = get(reports, trail, "/audits", **query)
    assert response.status == 422, response.body
    assert response.problem()["errors"]


def test_given_a_naive_and_a_utc_bound_when_listing_then_no_server_error(
    trail: Trail, reports: ReportsApi
) -> None:
    # A bound without a time zone next to one with must be read as UTC or refused: not a 500
    response = get(reports, trail, "/audits", **{"from": "2026-04-01T00:00:00", "to": iso(T0)})
    assert response.status in {200, 422}, (response.status, response.body)


# -- one record ---------------------------------------------------------------------------


def test_given_a_record_when_read_by_id_then_it_is_the_listed_item(
    trail: Trail, reports: ReportsApi
) -> None:
    listed = {i["id"]: i for i in ok(get(reports, trail, "/audits"))["items"]}
    for record_id in (trail.ids[trail.events[4]["eventId"]], trail.ids[trail.events[5]["eventId"]]):
        assert ok(get(reports, trail, f"/audits/{record_id}")) == listed[record_id]


@pytest.mark.parametrize("record_id", [UNKNOWN_ID, "nope", "0123456789abcdef0123456z"])
def test_given_an_unknown_or_malformed_id_when_read_then_404(
    trail: Trail, reports: ReportsApi, record_id: str
) -> None:
    response = get(reports, trail, f"/audits/{record_id}")
    assert response.status == 404, response.body
    assert response.problem()["instance"] == f"/audits/{record_id}"


# -- CSV ----------------------------------------------------------------------------------


def csv_rows(response: LambdaResponse) -> list[dict[str, str]]:
    assert response.status == 200, (response.status, response.body)
    assert response.content_type.startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.body.decode("utf-8"), newline=""))
    assert set(reader.fieldnames or ()) == FIELDS
    return list(reader)


def as_csv_cells(item: dict[str, Any]) -> dict[str, Any]:
    """A JSON item as its CSV row should read: null as an empty cell, `changes` parsed back."""
    return {k: ("" if v is None else v) for k, v in item.items()}


def parsed_csv(row: dict[str, str]) -> dict[str, Any]:
    return {**row, "changes": json.loads(row["changes"])}


def next_link(response: LambdaResponse) -> tuple[str, dict[str, str]] | None:
    link = response.headers.get("link")
    if link is None:
        return None
    match = LINK.match(link)
    assert match is not None, link
    url = urlsplit(match["url"])
    return url.path, dict(parse_qsl(url.query))


@pytest.mark.parametrize(
    "query",
    [{"limit": "4"}, {"limit": "2", "entity": "TASK"}, {"limit": "5", "from": iso(T0)}],
    ids=["no-filter", "entity", "from"],
)
def test_given_accept_csv_when_listing_then_each_page_has_the_json_rows_and_links_the_next(
    trail: Trail, reports: ReportsApi, query: dict[str, str]
) -> None:
    csv_headers = {"Accept": "text/csv"}
    json_query: dict[str, str] = dict(query)
    csv_request: tuple[str, dict[str, str]] | None = ("/audits", dict(query))
    pages = 0
    while csv_request is not None:
        # The JSON page and the CSV page for the same filter, limit and cursor
        page = ok(get(reports, trail, "/audits", **json_query))
        path, params = csv_request
        as_csv = reports.request("GET", path, token=trail.token, query=params, headers=csv_headers)

        # have the same records, in the same order, with the same fields and values
        rows = csv_rows(as_csv)
        assert [parsed_csv(r) for r in rows] == [as_csv_cells(i) for i in page["items"]]

        # and the CSV's next link continues exactly where the JSON nextCursor does
        csv_request = next_link(as_csv)
        if page["nextCursor"] is None:
            assert csv_request is None
        else:
            assert csv_request is not None
            assert csv_request[0] == "/audits"
            assert csv_request[1] == {**query, "cursor": page["nextCursor"]}
            json_query = {**query, "cursor": page["nextCursor"]}
        pages += 1
    assert pages >= 2


# -- append-only --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_given_a_record_when_a_client_tries_to_change_or_delete_it_then_there_is_no_route(
    db: Db, trail: Trail, reports: ReportsApi, method: str
) -> None:
    record_id = trail.ids[trail.events[0]["eventId"]]
    before = list(db.audits.find().sort("_id", 1))

    # API Gateway has no such route (the template is the single source of routes): only the
    # `$default` route takes it, which answers 405 (tests/e2e/test_audit_append_only.py)
    gateway = LocalGateway(load_template(ROOT / "template.yaml"))
    for path in (f"/audits/{record_id}", "/audits"):
        matched = gateway.match(method, path)
        assert matched is not None
        assert matched[0].route_key == "$default"
    # and the function itself allows only GET there
    response = reports.request(
        method,
        f"/audits/{record_id}",
        token=trail.token,
        json={"action": "DELETE", "detail": "tampered"},
    )
    assert response.status in {404, 405}, (response.status, response.body)

    # Then every record is exactly as it was
    assert list(db.audits.find().sort("_id", 1)) == before
