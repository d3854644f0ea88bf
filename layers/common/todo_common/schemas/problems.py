"""The error bodies of the API (RFC 9457 `application/problem+json`), as the document shows them.

`http/problems.py` writes these bodies; these models only describe them in the OpenAPI document,
so a generated client can type every error.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """An error: what went wrong, for which request."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="A URI naming the kind of problem")
    title: str = Field(description="The HTTP status's short text")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, for a person")
    instance: str = Field(description="The path of the request")
    request_id: str = Field(
        alias="requestId", description="The request's `X-Request-Id`, also in the logs"
    )


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then names"
    )
    msg: str


class ValidationProblem(Problem):
    """A `422`: the request is not valid; `errors` names each field at fault."""

    model_config = ConfigDict(title="ValidationProblem")

    errors: list[FieldProblem]
