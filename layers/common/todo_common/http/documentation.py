"""Every function's OpenAPI document, with every response each route can give (SPEC §6).

FastAPI documents a route's success and its `422`. The rest is derived here from the code, for
every route alike, so a new route cannot leave a status out:

- from the route's dependencies: `CurrentPrincipal` → `401` (with `WWW-Authenticate`) and the
  bearer scheme; `IfMatch` → `412`; an `Idempotency-Key` header → `409` (a retry still running)
  and `Idempotent-Replayed` on the success; `ClientIp` → `429` (the login budget); a parameter
  or body → `422`; a body → `413`; a path parameter → `404`; a service or the caller's session
  (MongoDB, Redis) → `503` with `Retry-After`;
- from the service methods the route calls: each declares the domain errors it may raise with
  `@raises` (`errors.py`); the route's body is read for `<service>.<method>(…)` calls on its
  service parameters. A called method without a declaration is an error here, so `make openapi`
  and the drift test fail until it has one.

Errors are `application/problem+json` with the shared `Problem` schema (`ValidationProblem` on
`422`); success responses name the headers they carry (`ETag` on a versioned resource, `Location`
on a `201`), every response `X-Request-Id`; a create links to the operations on what it created.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, cast, get_args, get_origin, get_type_hints

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.params import Depends
from fastapi.routing import APIRoute
from pydantic import BaseModel

from todo_common.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    declared_errors,
)
from todo_common.http import deps
from todo_common.http.problems import PROBLEM_JSON
from todo_common.schemas.problems import Problem, ValidationProblem

SCHEMAS = "#/components/schemas/"
HEADER_REFS = "#/components/headers/"
BEARER_SCHEME = "OAuth2PasswordBearer"

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
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key`",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Link": {
        "description": 'The next page of a CSV export: `<…?cursor=…>; rel="next"`',
        "schema": {"type": "string"},
    },
}
# The headers an error status always carries, and why it happens unless a route says more.
_ERROR_HEADERS = {401: ["WWW-Authenticate"], 429: ["Retry-After"], 503: ["Retry-After"]}
_DESCRIPTIONS = {
    400: "The body is not UTF-8 text",
    401: "Missing, invalid, expired or revoked credentials",
    403: "The caller's role or relation to the resource does not allow this",
    404: "No such resource, or not visible to the caller (also a malformed id)",
    409: "Conflicts with the current state (a duplicate, the last ADMIN, a deleted record, "
    "a concurrent change or a retry still in progress)",
    412: "`If-Match` does not name the current version",
    413: "The body exceeds 64 KiB",
    422: "The request is not valid; `errors` names each field",
    429: "Too many attempts; wait `Retry-After` seconds",
    503: "A dependency (MongoDB or Redis) is down or does not answer; retry after `Retry-After`",
}


@dataclass
class RouteFacts:
    """What the code says about one route: its dependencies and the errors it can raise."""

    protected: bool = False
    statuses: set[int] = field(default_factory=set)
    replays: bool = False


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
    response_model: Any
    status_code: int | None
    include_in_schema: bool


def api_routes(app: FastAPI) -> Iterator[DocumentedRoute]:
    """Every API route of `app`, as mounted (with its router's prefix)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield cast(DocumentedRoute, context)


def route_facts(route: DocumentedRoute) -> RouteFacts:
    """The statuses `route` can answer besides its success, derived from its code."""
    facts = RouteFacts()
    dependants = list(_walk(route.dependant))
    calls = {d.call for d in dependants}
    # Path parameters and headers are free strings (a malformed id is a 404, a bad If-Match a
    # 412): only a query parameter or a body can fail validation.
    has_query = any(d.query_params for d in dependants)
    services = _service_parameters(route)
    if deps.current_principal in calls:
        facts.protected = True
        facts.statuses.add(Unauthorized.status)
    if deps.if_match_version in calls:
        facts.statuses.add(PreconditionFailed.status)
    if any(p.alias == "Idempotency-Key" for d in dependants for p in d.header_params):
        facts.replays = True
        facts.statuses |= {Conflict.status, InvalidInput.status}
    if deps.client_ip in calls:
        facts.statuses.add(TooManyRequests.status)
    if route.body_field is not None:  # 400: a text body that is not UTF-8 (the local gateway)
        facts.statuses |= {400, PayloadTooLarge.status, InvalidInput.status}
    if has_query:
        facts.statuses.add(InvalidInput.status)
    if route.dependant.path_params:
        facts.statuses.add(NotFound.status)
    if services or facts.protected:
        facts.statuses.add(ServiceUnavailable.status)
    for error in _errors_of_called_methods(route, services):
        facts.statuses.add(error.status)
    return facts


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def _service_parameters(route: DocumentedRoute) -> dict[str, type]:
    """The endpoint's parameters that receive a service (`Annotated[X, Depends(service(…))]`)."""
    hints = get_type_hints(route.endpoint, include_extras=True)
    found: dict[str, type] = {}
    for name, hint in hints.items():
        if get_origin(hint) is not Annotated:
            continue
        cls, *metadata = get_args(hint)
        for meta in metadata:
            if isinstance(meta, Depends) and deps.is_service_dependency(meta.dependency):
                found[name] = cls
    return found


def _errors_of_called_methods(
    route: DocumentedRoute, services: dict[str, type]
) -> Iterator[type[DomainError]]:
    """The errors declared by each `<service>.<method>(…)` the endpoint's code calls."""
    if not services:
        return
    tree = ast.parse(textwrap.dedent(inspect.getsource(route.endpoint)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in services
        ):
            cls = services[node.func.value.id]
            method = getattr(cls, node.func.attr)
            declared = declared_errors(method)
            if declared is None:
                raise TypeError(
                    f"{cls.__name__}.{node.func.attr} (called by {route.path_format}) declares "
                    "no errors: add @raises(...) (todo_common.errors) to it"
                )
            yield from declared


def _describe(operation: dict[str, Any], route: DocumentedRoute, facts: RouteFacts) -> None:
    for parameter in operation.get("parameters", []):
        _without_null(parameter["schema"])  # an absent parameter is the null; "null" is text
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if InvalidInput.status not in facts.statuses:  # FastAPI's guess: any parameter at all
        responses.pop(str(InvalidInput.status), None)
    if facts.protected:
        operation["security"] = [{BEARER_SCHEME: []}]
    else:
        operation.pop("security", None)
    success = str(route.status_code or 200)
    success_headers = ["X-Request-Id"]
    if success == "201":
        success_headers.append("Location")
    if _is_versioned(route.response_model):
        success_headers.append("ETag")
    if facts.replays:
        success_headers.append("Idempotent-Replayed")
    _add_headers(responses.setdefault(success, {"description": "Success"}), success_headers)
    for status in sorted(facts.statuses):
        problem = ValidationProblem if status == InvalidInput.status else Problem
        declared = responses.get(str(status))
        if declared is None or "HTTPValidationError" in str(declared):
            declared = responses[str(status)] = {
                "description": _DESCRIPTIONS[status],
                "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMAS + problem.__name__}}},
            }
        _add_headers(declared, ["X-Request-Id", *_ERROR_HEADERS.get(status, [])])
    for code, response in responses.items():  # what a route declared itself (/health's 503)
        if code not in (success, *map(str, facts.statuses)):
            _add_headers(response, ["X-Request-Id", *_ERROR_HEADERS.get(int(code), [])])
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
