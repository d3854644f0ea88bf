"""What a route declares it can answer besides its success, where a reader of the route sees it.

- A route lists the domain errors its service call can raise:
  `@router.get("/{id}", responses=problems(NotFound, Forbidden))`. Each becomes a problem+json
  response (`ValidationProblem` for `422`) in the OpenAPI document.
- A dependency lists the errors it raises itself, once, on its definition:
  `@answers(PreconditionFailed)` on the `If-Match` reader, `@answers(Unauthorized, ...)` on the
  caller's principal. Every route that uses it, however indirectly, answers them too.

The contract tests (`tests/contract/`) observe each listed status and schemathesis fails on any
unlisted one: together they prove a declaration complete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from todo_common.errors import DomainError, InvalidInput
from todo_common.http.problems import PROBLEM_JSON

F = TypeVar("F", bound=Callable[..., Any])
SCHEMAS = "#/components/schemas/"

# Why each status happens, as the document says it (a route may declare it more precisely).
DESCRIPTIONS = {
    400: "The body is not UTF-8 text",
    401: "Missing, invalid, expired or revoked credentials",
    403: "The caller's role or relation to the resource does not allow this, or their access "
    "token lacks the scope it needs or may not do it at all (it needs a session)",
    404: "No such resource, or not visible to the caller (also a malformed id)",
    409: "Conflicts with the current state (a duplicate, the last ADMIN, a deleted record, "
    "a concurrent change or a retry still in progress)",
    412: "`If-Match` does not name the current version",
    413: "The body exceeds 64 KiB",
    422: "The request is not valid; `errors` names each field",
    429: "Too many attempts; wait `Retry-After` seconds",
    503: (
        "A dependency (MongoDB, Redis, KMS, S3 or Secrets Manager) is down or does not answer; "
        "retry after `Retry-After`"
    ),
}


def problem_response(status: int) -> dict[str, Any]:
    """The document's entry for an error `status`: problem+json with the shared schema."""
    schema = "ValidationProblem" if status == InvalidInput.status else "Problem"
    return {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMAS + schema}}},
    }


def problems(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: one problem+json response per domain error it can answer."""
    return {error.status: problem_response(error.status) for error in errors}


class Outcome(NamedTuple):
    """A response that is neither the success nor an error (a `304 Not Modified`)."""

    status: int
    description: str
    headers: tuple[str, ...] = ()


class Headers(NamedTuple):
    """Headers a dependency puts on every answer given once it has run: the success, the other
    outcomes, and the errors whose statuses are `after` (those that can only come later)."""

    names: tuple[str, ...]
    after: frozenset[int] = frozenset()


class Answers(NamedTuple):
    """What a dependency adds to every route that uses it."""

    errors: tuple[type[DomainError], ...]
    success_headers: tuple[str, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    headers: Headers | None = None
    on_writes: tuple[type[DomainError], ...] = ()  # only on a method other than GET and HEAD


def answers(
    *errors: type[DomainError],
    success_headers: tuple[str, ...] = (),
    outcomes: tuple[Outcome, ...] = (),
    headers: Headers | None = None,
    on_writes: tuple[type[DomainError], ...] = (),
) -> Callable[[F], F]:
    """Declare on a dependency the errors it raises (`on_writes`: only on routes whose method
    is not a read), the headers it adds to a success, the other responses it may give instead,
    and the headers it adds to every later answer."""

    def declare(dependency: F) -> F:
        declared = Answers(errors, success_headers, outcomes, headers, on_writes)
        dependency.__answers__ = declared  # type: ignore[attr-defined]
        return dependency

    return declare


def answers_of(dependency: object) -> Answers:
    """What `@answers` declared on `dependency` (nothing when it declared nothing)."""
    declared: Answers = getattr(dependency, "__answers__", Answers(()))
    return declared
