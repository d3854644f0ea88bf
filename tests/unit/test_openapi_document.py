"""The committed OpenAPI document is the one the code produces, for every function's routes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from devtools.openapi import OUTPUT, merged_document, render, route_shape
from devtools.template import load_template
from todo_common.errors import Conflict, PreconditionFailed, TooManyRequests
from todo_common.http.app import create_app
from todo_common.http.declared import answers, problems
from todo_common.http.deps import RATE_LIMIT_HEADERS, service

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_document_matches_the_code() -> None:
    expected = render(merged_document(load_template(ROOT / "template.yaml")))
    assert OUTPUT.read_text() == expected, "openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_once() -> None:
    document = json.loads(OUTPUT.read_text())
    template = load_template(ROOT / "template.yaml")
    documented = [
        (method.upper(), route_shape(path))
        for path, operations in document["paths"].items()
        for method in operations
    ]
    routed = [
        (r.method, route_shape(r.path)) for r in template.routes if r.function != "DocsFunction"
    ]
    assert sorted(documented) == sorted(routed)


def test_the_document_is_openapi_3_1_with_the_bearer_scheme_and_a_tag_per_function() -> None:
    document = json.loads(OUTPUT.read_text())
    assert document["openapi"] == "3.1.0"
    scheme = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    tags = {t["name"] for t in document["tags"]}
    assert tags == {"Users", "Projects", "Tasks", "Reports", "Webhooks"}
    assert all(
        len(op["tags"]) == 1 and op["tags"][0] in tags
        for ops in document["paths"].values()
        for op in ops.values()
    )


PUBLIC = {
    ("POST", "/auth/login"),
    ("POST", "/auth/token"),
    ("POST", "/auth/refresh"),
    ("GET", "/health"),
    ("GET", "/.well-known/jwks.json"),  # public keys, for other services (issue 19)
}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = json.loads(OUTPUT.read_text())
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_error_is_problem_json_with_the_shared_schema_and_a_request_id() -> None:
    """Errors are problems; a success and a `304` (no body) are not."""
    for method, path, operation in _operations():
        for status, response in operation["responses"].items():
            assert "X-Request-Id" in response["headers"], (method, path, status)
            if status.startswith(("2", "3")) or (path, status) == ("/health", "503"):
                continue
            schema = response["content"]["application/problem+json"]["schema"]["$ref"]
            expected = "ValidationProblem" if status == "422" else "Problem"
            assert schema == f"#/components/schemas/{expected}", (method, path, status)
            assert list(response["content"]) == ["application/problem+json"]


def test_a_304_repeats_the_etag_and_has_no_body() -> None:
    not_modified = [
        (method, path, operation["responses"]["304"])
        for method, path, operation in _operations()
        if "304" in operation["responses"]
    ]
    assert {path for _, path, _ in not_modified} == {
        "/users/me",
        "/users/{user_id}",
        "/projects/{project_id}",
        "/tasks/{task_id}",
        "/webhooks/{webhook_id}",
    }
    for method, path, response in not_modified:
        assert method == "GET", path
        assert "content" not in response, path
        assert set(response["headers"]) == {
            "ETag",
            "Cache-Control",
            "X-Request-Id",
            *RATE_LIMIT_HEADERS,
        }, path


def test_every_answer_after_the_caller_is_counted_documents_the_rate_limit_headers() -> None:
    """Protected operations and the logins name `RateLimit-Policy` and `RateLimit` on their
    success and on the answers that come once the request is counted; never on a `401` of a
    missing token (nothing was counted) nor on a `503`."""
    document = json.loads(OUTPUT.read_text())
    assert set(RATE_LIMIT_HEADERS) <= document["components"]["headers"].keys()
    for _method, path, operation in _operations():
        responses = operation["responses"]
        metered = "security" in operation or path in {"/auth/login", "/auth/token"}
        (success,) = [s for s in responses if s.startswith("2")]
        assert (set(RATE_LIMIT_HEADERS) <= set(responses[success]["headers"])) == metered, path
        for status in ("429", "403", "404"):
            if metered and status in responses:
                assert set(RATE_LIMIT_HEADERS) <= set(responses[status]["headers"]), (path, status)
        if "security" in operation:
            assert not set(RATE_LIMIT_HEADERS) & set(responses["401"]["headers"]), path
        assert not set(RATE_LIMIT_HEADERS) & set(responses.get("503", {}).get("headers", {}))


def test_the_statuses_carry_their_headers() -> None:
    for method, path, operation in _operations():
        responses = operation["responses"]
        for status, header in (
            ("401", "WWW-Authenticate"),
            ("429", "Retry-After"),
            ("503", "Retry-After"),
        ):
            if status in responses:
                assert header in responses[status]["headers"], (method, path, status)
        if "201" in responses:
            created = set(responses["201"]["headers"])
            assert "Location" in created, (method, path)
            # An access token is never revised (no If-Match on it), so its create has no ETag.
            assert ("ETag" in created) == (path != "/auth/tokens"), (method, path)
            # SPEC §6 keys the creates of users, projects and tasks; a webhook's or a token's
            # create is not replayed, since its answer holds the secret a replay would keep.
            replayed = path not in {"/webhooks", "/auth/tokens"}
            assert ("Idempotent-Replayed" in created) == replayed, (method, path)


def test_protected_operations_need_the_bearer_scheme_and_public_ones_nothing() -> None:
    for method, path, operation in _operations():
        if (method, path) in PUBLIC:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"OAuth2PasswordBearer": []}], (method, path)
            assert "401" in operation["responses"], (method, path)


def test_a_create_links_to_the_operations_on_what_it_created() -> None:
    document = json.loads(OUTPUT.read_text())
    for collection, parameter in (
        ("/users", "user_id"),
        ("/projects", "project_id"),
        ("/tasks", "task_id"),
    ):
        links = document["paths"][collection]["post"]["responses"]["201"]["links"]
        item = document["paths"][f"{collection}/{{{parameter}}}"]
        targets = {link["operationId"] for link in links.values()}
        assert targets >= {operation["operationId"] for operation in item.values()}
        assert all(
            link["parameters"] == {parameter: "$response.body#/id"} for link in links.values()
        )


class Worker:
    def run(self) -> None:
        raise Conflict("taken")


@answers(PreconditionFailed)
async def _version() -> int:
    return 1


async def _write(version: Annotated[int, Depends(_version)]) -> int:
    return version


def _responses(app: FastAPI, path: str = "/probe", method: str = "post") -> dict[str, Any]:
    responses: dict[str, Any] = app.openapi()["paths"][path][method]["responses"]
    return responses


def test_a_route_documents_the_problems_it_declares_as_problem_json() -> None:
    """Given a route declaring two domain errors, then each is a problem+json response with the
    headers its status carries, beside the service's 503."""
    app = create_app(title="Probe", routers=[])

    @app.post("/probe", responses=problems(Conflict, TooManyRequests))
    async def probe(worker: Annotated[Worker, Depends(service(Worker))]) -> None:
        worker.run()

    responses = _responses(app)
    assert sorted(responses) == ["200", "409", "429", "503"]
    assert responses["409"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert set(responses["429"]["headers"]) == {"Retry-After", "X-Request-Id"}


def test_a_dependency_contributes_what_it_answers_to_every_route_using_it() -> None:
    """Given a dependency declaring `@answers(PreconditionFailed)`, used through another
    dependency, then the route documents `412` without declaring it itself."""
    app = create_app(title="Probe", routers=[])

    @app.delete("/probe")
    async def probe(_: Annotated[int, Depends(_write)]) -> None:
        return None

    assert sorted(_responses(app, method="delete")) == ["200", "412"]


def test_nothing_is_inferred_from_a_routes_code() -> None:
    """A route that raises without declaring it documents only its success: what it forgot is
    for the contract tests to catch, not for the document to guess."""
    app = create_app(title="Probe", routers=[])

    @app.get("/probe")
    async def probe() -> None:
        raise Conflict("undeclared")

    assert sorted(_responses(app, method="get")) == ["200"]


def test_every_operation_is_named_after_its_route_function_once() -> None:
    """Generated clients name their calls by operationId: `create_task`, not FastAPI's default
    `create_task_tasks_post`, and never the same name for two operations."""
    operation_ids = [operation["operationId"] for _, _, operation in _operations()]
    assert len(operation_ids) == len(set(operation_ids))
    assert {"create_task", "list_tasks", "login", "refresh", "me"} <= set(operation_ids)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in operation_ids)
