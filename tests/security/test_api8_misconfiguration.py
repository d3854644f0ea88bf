"""API8:2023 Security Misconfiguration: injection through bodies, queries and headers, and what
errors give away (SPEC §6). MongoDB operators sent by a client are refused or taken literally,
a request id that is not plain is replaced rather than echoed, and a problem document never
carries a stack trace."""

from __future__ import annotations

import re
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.support import PROBLEM_KEYS, assert_problem, projects_and_tasks, users_state
from tests.factories import DEFAULT_PASSWORD, make_project
from tests.security.conftest import Cast

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


def test_the_docs_and_health_say_nothing_about_the_servers_behind(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.json() == {"status": "ok", "mongo": "ok", "redis": "ok"}
    spec = client.get("/openapi.json").text
    for secret in ("mongodb://", "redis://", "127.0.0.1", "SECURITY_SECRET_KEY"):
        assert secret not in spec
