"""The API Gateway HTTP API Lambda authorizer (payload 2.0, simple responses).

It turns away requests whose bearer token is not one this API signed, at the edge, before any
function runs, and passes `sub`, `role` and `sid` on in the request context. Expiry is left to the
functions on purpose: they answer an expired token with `401` and `WWW-Authenticate`, the signal
clients use to refresh, whereas an authorizer's refusal can only be API Gateway's fixed `403`.
Each function still verifies the token and its session itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from todo_common import snapstart
from todo_common.errors import Unauthorized
from todo_common.logs import logger
from todo_common.security.tokens import TokenService, TokenType
from todo_common.settings import get_settings


@lru_cache(maxsize=1)
def _tokens() -> TokenService:
    return TokenService(get_settings().security)


def _bearer(event: dict[str, Any]) -> str | None:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def decide(event: dict[str, Any]) -> dict[str, Any]:
    token = _bearer(event)
    if token is None:
        return {"isAuthorized": False}
    try:
        claims = _tokens().verify(token, TokenType.ACCESS, verify_exp=False)
    except Unauthorized as exc:
        logger.info("Token refused at the edge", extra={"reason": exc.detail})
        return {"isAuthorized": False}
    return {
        "isAuthorized": True,
        "context": {"sub": claims.sub, "role": claims.role, "sid": claims.sid},
    }


def _warm_up() -> None:
    decide({"headers": {"authorization": "Bearer snapshot.warm.up"}})  # the refusal path: no key


snapstart.register(before=_warm_up)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return decide(event)
