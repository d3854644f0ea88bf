"""JWT access and refresh tokens (PyJWT, pinned algorithm, every claim required)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from todo_common.errors import Unauthorized
from todo_common.settings import SecuritySettings

REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "sid", "jti", "typ", "iat", "exp")


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    role: str
    sid: str
    jti: str
    typ: TokenType
    exp: datetime


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    refresh_jti: str
    expires_in: int
    refresh_expires_in: int


class TokenService:
    """Issues and verifies tokens; verification never trusts the token's own header."""

    def __init__(self, settings: SecuritySettings) -> None:
        self._settings = settings

    def issue_pair(self, user_id: str, role: str, session_id: str) -> TokenPair:
        s = self._settings
        access_ttl = timedelta(minutes=s.access_token_expire_minutes)
        refresh_ttl = timedelta(days=s.refresh_token_expire_days)
        refresh_jti = uuid.uuid4().hex
        return TokenPair(
            access_token=self._encode(
                user_id, role, session_id, uuid.uuid4().hex, TokenType.ACCESS, access_ttl
            ),
            refresh_token=self._encode(
                user_id, role, session_id, refresh_jti, TokenType.REFRESH, refresh_ttl
            ),
            refresh_jti=refresh_jti,
            expires_in=int(access_ttl.total_seconds()),
            refresh_expires_in=int(refresh_ttl.total_seconds()),
        )

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """Decode `token`; raise `Unauthorized` unless it is a valid token of type `expected`."""
        s = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                s.secret_key,
                algorithms=[s.jwt_algorithm],
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                leeway=s.jwt_leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        if claims.get("typ") != expected.value:
            raise Unauthorized(f"An {expected.value} token is required")
        for name in ("sub", "role", "sid", "jti"):
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise Unauthorized("Invalid token")
        return TokenClaims(
            sub=claims["sub"],
            role=claims["role"],
            sid=claims["sid"],
            jti=claims["jti"],
            typ=expected,
            exp=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )

    def _encode(
        self, user_id: str, role: str, session_id: str, jti: str, typ: TokenType, ttl: timedelta
    ) -> str:
        s = self._settings
        now = datetime.now(UTC)
        payload = {
            "iss": s.jwt_issuer,
            "aud": s.jwt_audience,
            "sub": user_id,
            "role": role,
            "sid": session_id,
            "jti": jti,
            "typ": typ.value,
            "iat": now,
            "exp": now + ttl,
        }
        return jwt.encode(payload, s.secret_key, algorithm=s.jwt_algorithm)
