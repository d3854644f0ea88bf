"""Every function's OpenAPI document, with every response each route can give (SPEC §6).

FastAPI documents a route's success, its `422` and the `responses=` it declares. This adds, for
every route alike, what is declared elsewhere and what the framework itself can answer:

- what the route's dependencies declare with `@answers` (`http/declared.py`), however deep:
  the caller's principal → `401` (with `WWW-Authenticate`) and `503`; `If-Match` → `412`; a keyed
  create → `409`, `422` and `Idempotent-Replayed` on the success; a service → `503`; a read of
  one record → `304` (`If-None-Match`), `Cache-Control` on both;
- the `RateLimit-Policy` and `RateLimit` headers a metered dependency (the caller's principal,
  a login's client) puts on the answers given once it has counted the request (`Headers`);
- what its parameters can fail on: a query parameter or a body → `422`; a body → `400` (not
  UTF-8) and `413`; a path parameter → `404` (a malformed id).

Errors are `application/problem+json` with the shared `Problem` schema (`ValidationProblem` on
`422`); success responses name the headers they carry (`ETag` on a versioned resource, `Location`
on a `201`), every response `X-Request-Id`; a create links to the operations on what it created.
Nothing here reads a route's source: what is not declared is not documented, and the contract
tests, which observe every listed status, catch what a declaration left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from todo_common.errors import InvalidInput, NotFound, PayloadTooLarge
from todo_common.http.declared import SCHEMAS, Headers, Outcome, answers_of, problem_response
from todo_common.rbac import READ_METHODS
from todo_common.schemas.problems import Problem, ValidationProblem

HEADER_REFS = "#/components/headers/"

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id: the one sent, else a new one (also in logs and errors)",
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": 'The bearer challenge, e.g. `Bearer error="invalid_token"`',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    },
    "ETag": {
        "description": 'The resource\'s version, e.g. `"3"`; send it as `If-Match` to write safely',
        "schema": {"type": "string"},
    },
    "Location": {"description": "The created resource's path", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`private, no-cache`: keep it, but ask again with `If-None-Match`",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key`",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "RateLimit-Policy": {
        "description": "The rate-limit policies the request counts against, as "
        'draft-ietf-httpapi-ratelimit-headers: `"default";q=600;w=60` (600 requests per '
        '60 s per session), `"login";q=5;w=900` (password checks per email and address)',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'Where the request leaves each policy: `"default";r=599;t=42`, `r` '
        "units remaining, `t` seconds until the window resets; past `r=0`, 429",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page of a CSV export: `<…?cursor=…>; rel="next"`',
        "schema": {"type": "string"},
    },
}
# The headers an error status always carries, and why it happens unless a route says more.
_ERROR_HEADERS = {401: ["WWW-Authenticate"], 429: ["Retry-After"], 503: ["Retry-After"]}


@dataclass
class RouteFacts:
    """What one route declares, itself and through its dependencies, besides its success."""

    statuses: set[int] = field(default_factory=set)
    success_headers: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    later_headers: list[Headers] = field(default_factory=list)

    def headers_of(self, status: int | None = None) -> list[str]:
        """The headers a dependency adds to the success (None), an outcome, or an error."""
        return [
            name
            for declared in self.later_headers
            if status is None or status in declared.after
            for name in declared.names
        ]


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document with every response of every route."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    operations = document.get("paths", {})
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        facts = route_facts(route)
        for method in route.methods:
            _describe(operations[route.path_format][method.lower()], route, facts)
    _link_creates(operations)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for model in (Problem, ValidationProblem):
        schema = model.model_json_schema(ref_template=SCHEMAS + "{model}", by_alias=True)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    document["components"]["headers"] = dict(sorted(HEADERS.items()))
    return document


class DocumentedRoute(Protocol):
    """What this module reads of a route (an `APIRoute` as mounted, its prefix included)."""

    path_format: str
    methods: set[str]
    dependant: Dependant
    body_field: Any
    endpoint: Callable[..., Any]
    responses: dict[int | str, Any]
    response_model: Any
    status_code: int | None
    include_in_schema: bool


def api_routes(app: FastAPI) -> Iterator[DocumentedRoute]:
    """Every API route of `app`, as mounted (with its router's prefix)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield cast(DocumentedRoute, context)


def route_facts(route: DocumentedRoute) -> RouteFacts:
    """The statuses `route` can answer besides its success, as declared."""
    facts = RouteFacts()
    facts.statuses |= {int(code) for code in route.responses if int(code) >= 400}
    dependants = list(_walk(route.dependant))
    for dependant in dependants:
        declared = answers_of(dependant.call)
        facts.statuses |= {error.status for error in declared.errors}
        if route.methods - READ_METHODS:
            facts.statuses |= {error.status for error in declared.on_writes}
        facts.success_headers += declared.success_headers
        facts.outcomes += declared.outcomes
        if declared.headers is not None:
            facts.later_headers.append(declared.headers)
    # Path parameters and headers are free strings (a malformed id is a 404, a bad If-Match a
    # 412): only a query parameter or a body can fail validation.
    if route.body_field is not None:  # 400: a text body that is not UTF-8 (the local gateway)
        facts.statuses |= {400, PayloadTooLarge.status, InvalidInput.status}
    if any(d.query_params for d in dependants):
        facts.statuses.add(InvalidInput.status)
    if route.dependant.path_params:
        facts.statuses.add(NotFound.status)
    return facts


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def _describe(operation: dict[str, Any], route: DocumentedRoute, facts: RouteFacts) -> None:
    for parameter in operation.get("parameters", []):
        _without_null(parameter["schema"])  # an absent parameter is the null; "null" is text
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if InvalidInput.status not in facts.statuses:  # FastAPI's guess: any parameter at all
        responses.pop(str(InvalidInput.status), None)
    success = str(route.status_code or 200)
    success_headers = ["X-Request-Id"]
    if success == "201":
        success_headers.append("Location")
    if _is_versioned(route.response_model):
        success_headers.append("ETag")
    success_headers += [h for h in facts.success_headers if h not in success_headers]
    success_headers += facts.headers_of()
    _add_headers(responses.setdefault(success, {"description": "Success"}), success_headers)
    for outcome in facts.outcomes:
        entry = responses.setdefault(str(outcome.status), {"description": outcome.description})
        _add_headers(entry, ["X-Request-Id", *outcome.headers, *facts.headers_of()])
    for status in sorted(facts.statuses):
        declared = responses.get(str(status))
        if declared is None or "HTTPValidationError" in str(declared):
            declared = responses[str(status)] = problem_response(status)
        later = facts.headers_of(status)
        _add_headers(declared, ["X-Request-Id", *_ERROR_HEADERS.get(status, []), *later])
    operation["responses"] = dict(sorted(responses.items()))


def _without_null(schema: dict[str, Any]) -> None:
    options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
    if "anyOf" in schema and len(options) == 1:
        schema.pop("anyOf")
        schema.update(options[0])


def _add_headers(response: dict[str, Any], names: list[str]) -> None:
    headers = response.setdefault("headers", {})
    for name in names:
        headers.setdefault(name, {"$ref": HEADER_REFS + name})
    response["headers"] = dict(sorted(headers.items()))


def _is_versioned(model: Any) -> bool:
    """A single resource with a `version` answers with its `ETag`."""
    return (
        isinstance(model, type)
        and issubclass(model, BaseModel)
        and "version" in (model.model_fields)
    )


def _link_creates(operations: dict[str, dict[str, Any]]) -> None:
    """`POST /things` → `201` links to every operation on `/things/{id}` by the new `id`."""
    for path, methods in operations.items():
        created = methods.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links: dict[str, Any] = {}
        for other, other_methods in operations.items():
            rest = other.removeprefix(path + "/")
            if rest == other or not rest.startswith("{"):
                continue
            parameter = rest[1 : rest.index("}")]
            for operation in other_methods.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {parameter: "$response.body#/id"},
                    "description": f"The created resource's `id` as `{parameter}`",
                }
        if links:
            created["links"] = dict(sorted(links.items()))
