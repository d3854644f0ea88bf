"""Domain errors. Services raise them; `http.problems` maps them to RFC 9457 in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class FieldError:
    loc: Sequence[str | int]
    msg: str


class DomainError(Exception):
    """Base of every error a service may raise; carries its HTTP status and problem type."""

    status = 500
    title = "Internal Server Error"
    slug = "internal-error"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class Unauthorized(DomainError):
    """Missing, invalid, expired or revoked credentials (401 with `WWW-Authenticate: Bearer`)."""

    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(
        self, detail: str = "Not authenticated", error: str | None = "invalid_token"
    ) -> None:
        challenge = f'Bearer error="{error}"' if error else "Bearer"
        super().__init__(detail, {"WWW-Authenticate": challenge})


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"

    def __init__(self, detail: str = "You are not allowed to do this") -> None:
        super().__init__(detail)


class NotFound(DomainError):
    status, title, slug = 404, "Not Found", "not-found"

    def __init__(self, detail: str = "Resource not found") -> None:
        super().__init__(detail)


class MethodNotAllowed(DomainError):
    """The path exists, with other methods (405 with `Allow`)."""

    status, title, slug = 405, "Method Not Allowed", "method-not-allowed"

    def __init__(self, method: str, allowed: list[str]) -> None:
        super().__init__(
            f"{method} is not allowed here; use {', '.join(allowed)}",
            {"Allow": ", ".join(allowed)},
        )


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(DomainError):
    status, title, slug = 412, "Precondition Failed", "precondition-failed"

    def __init__(self, detail: str = "The resource changed since you read it (If-Match)") -> None:
        super().__init__(detail)


class PayloadTooLarge(DomainError):
    status, title, slug = 413, "Content Too Large", "content-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body exceeds {limit} bytes")


class InvalidInput(DomainError):
    """A 422 raised by a rule rather than by schema validation; `errors` name the fields."""

    status, title, slug = 422, "Unprocessable Content", "validation-error"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)


class TooManyRequests(DomainError):
    status, title, slug = 429, "Too Many Requests", "too-many-requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, {"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service Unavailable", "dependency-unavailable"

    def __init__(self, dependency: str, retry_after: int = 5) -> None:
        super().__init__(
            f"{dependency} is unavailable; retry shortly", {"Retry-After": str(retry_after)}
        )
        self.dependency = dependency
