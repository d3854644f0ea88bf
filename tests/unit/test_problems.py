"""Errors over HTTP (SPEC §6): every failure is RFC 9457 `application/problem+json`.

A tiny app built by the shared `create_app` raises each domain error; the assertions are on what a
client sees: status, content type, body shape, `Retry-After`, `WWW-Authenticate`, `X-Request-Id`.
(`/health` is never called here: it is the only route that touches MongoDB and Redis.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from todo_common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from todo_common.http.app import create_app
from todo_common.schemas.base import ApiModel

PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "requestId"}
SECRET_DETAIL = "db password is hunter2 at /srv/app/internal.py"
OVER_LIMIT = 70 * 1024  # SPEC §6: bodies over 64 KiB are refused


class ItemIn(ApiModel):
    title: str
    done_count: int = 0


RAISERS: dict[str, Callable[[], DomainError]] = {
    "not-found": lambda: NotFound("No such task"),
    "forbidden": lambda: Forbidden("Managers only"),
    "conflict": lambda: Conflict("Email already registered"),
    "precondition-failed": PreconditionFailed,
    "too-many-requests": lambda: TooManyRequests("Too many failed logins", retry_after=7),
    "service-unavailable": lambda: ServiceUnavailable("Redis"),
    "unauthorized": lambda: Unauthorized("Token has expired"),
}
EXPECTED_STATUS = {
    "not-found": 404,
    "forbidden": 403,
    "conflict": 409,
    "precondition-failed": 412,
    "too-many-requests": 429,
    "service-unavailable": 503,
    "unauthorized": 401,
}


def _raising_route(router: APIRouter, name: str, make_error: Callable[[], DomainError]) -> None:
    def route() -> None:
        raise make_error()

    router.add_api_route(f"/raise/{name}", route, methods=["GET"], name=f"raise_{name}")


def build_app() -> FastAPI:
    router = APIRouter()
    for name, make_error in RAISERS.items():
        _raising_route(router, name, make_error)

    @router.get("/crash")
    def crash() -> None:
        raise RuntimeError(SECRET_DETAIL)

    @router.post("/items", status_code=201)
    def create_item(item: ItemIn) -> dict[str, Any]:
        return item.model_dump(by_alias=True)

    return create_app(title="t", routers=[router])


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem document for `status`; returns its body."""
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["requestId"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    assert str(body["type"]).startswith("https://")
    assert body["title"]
    assert body["detail"]
    return body


# --- domain errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(RAISERS))
def test_given_a_route_raising_a_domain_error_then_the_client_gets_its_problem_document(
    client: TestClient, name: str
) -> None:
    response = client.get(f"/raise/{name}")

    body = assert_problem(response, EXPECTED_STATUS[name])
    assert set(body) == PROBLEM_KEYS
    assert body["detail"] == RAISERS[name]().detail


def test_given_a_domain_error_then_the_problem_type_names_the_error(client: TestClient) -> None:
    body = client.get("/raise/conflict").json()

    assert body["type"].endswith("/conflict")
    assert body["title"] == "Conflict"


def test_given_too_many_requests_then_retry_after_says_when_to_come_back(
    client: TestClient,
) -> None:
    response = client.get("/raise/too-many-requests")

    assert_problem(response, 429)
    assert response.headers["retry-after"] == "7"


def test_given_a_dependency_down_then_503_names_it_and_says_when_to_retry(
    client: TestClient,
) -> None:
    response = client.get("/raise/service-unavailable")

    body = assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert "Redis" in body["detail"]


def test_given_unauthorized_then_the_bearer_challenge_is_sent(client: TestClient) -> None:
    response = client.get("/raise/unauthorized")

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_given_an_unknown_route_then_404_is_a_problem_document_too(client: TestClient) -> None:
    assert_problem(client.get("/no/such/route"), 404)


def test_given_a_wrong_method_then_405_is_a_problem_document_too(client: TestClient) -> None:
    assert_problem(client.delete("/items"), 405)


# --- unexpected errors ---------------------------------------------------------------------------


def test_given_an_unexpected_exception_then_500_is_a_problem_without_internals(
    client: TestClient,
) -> None:
    response = client.get("/crash")

    body = assert_problem(response, 500)
    assert set(body) == PROBLEM_KEYS
    for leak in ("Traceback", "RuntimeError", "hunter2", "internal.py", 'File "'):
        assert leak not in response.text


# --- validation ----------------------------------------------------------------------------------


def assert_field_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert set(body) == PROBLEM_KEYS | {"errors"}
    errors: list[dict[str, Any]] = body["errors"]
    assert errors
    for error in errors:
        assert set(error) == {"loc", "msg"}
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str)
        assert error["msg"]
    return errors


def test_given_malformed_json_then_422_lists_the_error(client: TestClient) -> None:
    response = client.post(
        "/items", content=b'{"title": "x",', headers={"Content-Type": "application/json"}
    )

    errors = assert_field_errors(assert_problem(response, 422))
    assert errors[0]["loc"][0] == "body"
    assert "Expecting" not in response.text  # the parser's own wording stays inside


def test_given_an_unknown_field_then_422_names_it(client: TestClient) -> None:
    response = client.post("/items", json={"title": "Write tests", "isAdmin": True})

    errors = assert_field_errors(assert_problem(response, 422))
    assert ["body", "isAdmin"] in [error["loc"] for error in errors]


def test_given_a_missing_field_then_422_names_it(client: TestClient) -> None:
    response = client.post("/items", json={"doneCount": 1})

    errors = assert_field_errors(assert_problem(response, 422))
    assert ["body", "title"] in [error["loc"] for error in errors]


def test_given_a_valid_camel_case_body_then_the_route_runs(client: TestClient) -> None:
    response = client.post("/items", json={"title": "Write tests", "doneCount": 2})

    assert response.status_code == 201
    assert response.json() == {"title": "Write tests", "doneCount": 2}


# --- request id ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/raise/not-found", "/crash"])
def test_given_a_request_id_then_it_is_echoed_in_the_header_and_the_problem(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers={"X-Request-Id": "req-2024.05:abc-123"})

    assert response.headers["x-request-id"] == "req-2024.05:abc-123"
    assert response.json()["requestId"] == "req-2024.05:abc-123"


@pytest.mark.parametrize("path", ["/raise/not-found", "/crash"])
def test_given_no_request_id_then_a_uuid_is_generated_for_the_header_and_the_problem(
    client: TestClient, path: str
) -> None:
    response = client.get(path)

    generated = response.headers["x-request-id"]
    assert uuid.UUID(generated)
    assert response.json()["requestId"] == generated


def test_given_no_request_id_then_each_request_gets_its_own(client: TestClient) -> None:
    first = client.get("/raise/not-found").headers["x-request-id"]
    second = client.get("/raise/not-found").headers["x-request-id"]

    assert first != second


def test_given_a_success_then_the_request_id_is_also_returned(client: TestClient) -> None:
    response = client.post("/items", json={"title": "ok"}, headers={"X-Request-Id": "ok-1"})

    assert response.headers["x-request-id"] == "ok-1"


@pytest.mark.parametrize(
    "unsafe", ["has space", "x" * 129, "semi;colon", 'quote"d'], ids=["space", "long", "semi", "q"]
)
def test_given_an_unsafe_request_id_then_a_fresh_uuid_replaces_it(
    client: TestClient, unsafe: str
) -> None:
    """A client-chosen id ends up in logs and audit records; only a plain token is trusted."""
    response = client.get("/raise/not-found", headers={"X-Request-Id": unsafe})

    assert uuid.UUID(response.headers["x-request-id"])
    assert response.json()["requestId"] == response.headers["x-request-id"]


# --- body size -----------------------------------------------------------------------------------


def test_given_a_body_over_64_kib_with_content_length_then_413_before_reading_it(
    client: TestClient,
) -> None:
    body = b'{"title": "' + b"x" * OVER_LIMIT + b'"}'

    response = client.post("/items", content=body, headers={"Content-Type": "application/json"})

    assert "content-length" in {name.lower() for name in response.request.headers}
    problem = assert_problem(response, 413)
    assert set(problem) == PROBLEM_KEYS


def test_given_a_chunked_body_over_64_kib_without_content_length_then_413(
    client: TestClient,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(OVER_LIMIT // 1024):
            yield b"x" * 1024
        yield b'"}'

    response = client.post("/items", content=chunks(), headers={"Content-Type": "application/json"})

    assert "content-length" not in {name.lower() for name in response.request.headers}
    problem = assert_problem(response, 413)
    assert set(problem) == PROBLEM_KEYS


def test_given_an_oversized_body_then_the_problem_type_is_the_same_with_or_without_length(
    client: TestClient,
) -> None:
    """Clients branch on `type`: one error, one type, however the body happened to be sent."""
    body = b'{"title": "' + b"x" * OVER_LIMIT + b'"}'
    json_header = {"Content-Type": "application/json"}

    declared = client.post("/items", content=body, headers=json_header).json()
    chunked = client.post("/items", content=iter([body]), headers=json_header).json()

    assert declared["type"] == chunked["type"]
    assert declared["title"] == chunked["title"]


def test_given_a_body_just_under_64_kib_then_it_is_accepted(client: TestClient) -> None:
    title = "x" * (64 * 1024 - 100)

    response = client.post("/items", json={"title": title})

    assert response.status_code == 201
