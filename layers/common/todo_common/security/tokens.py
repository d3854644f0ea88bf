"""JWT access and refresh tokens: ES256 signed by KMS, verified by PyJWT with a public key
chosen by `kid` from a pinned set (security/keys.py), the algorithm pinned, every claim required.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import jwt

from todo_common.errors import Unauthorized
from todo_common.security.keys import TokenSigner, VerifyingKeys
from todo_common.settings import SecuritySettings

REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "sid", "jti", "typ", "iat", "exp")
ALGORITHM = "ES256"
# Header members that point at a key (RFC 7515 §4.1): a token choosing its own key is refused,
# although PyJWT would ignore them anyway, so that no later change can start trusting them.
KEY_POINTERS = frozenset({"jku", "jwk", "x5u", "x5c"})


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class TokenClaims(NamedTuple):
    sub: str
    role: str
    sid: str
    jti: str
    typ: TokenType
    exp: datetime


class TokenPair(NamedTuple):
    access_token: str
    refresh_token: str
    refresh_jti: str
    expires_in: int
    refresh_expires_in: int


class TokenService:
    """Issues and verifies tokens; verification never trusts the token's own header.

    `signer` is the users function's alone: the others verify and cannot issue.
    """

    def __init__(
        self, settings: SecuritySettings, keys: VerifyingKeys, signer: TokenSigner | None = None
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._signer = signer

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The verifying keys, as a JSON Web Key Set."""
        return self._keys.jwks()

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
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        key = self._keys.get(header.get("kid"))
        if key is None or header.get("alg") != ALGORITHM or KEY_POINTERS & header.keys():
            raise Unauthorized("Invalid token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
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
        return self.encode(payload)

    def encode(self, payload: dict[str, Any]) -> str:
        """`payload` as a JWS signed by this function's signer (compact form, ES256, `kid`)."""
        if self._signer is None:
            raise RuntimeError("this function verifies tokens but does not sign them")
        header = {"alg": ALGORITHM, "kid": self._signer.kid, "typ": "JWT"}
        claims = {
            name: int(value.timestamp()) if isinstance(value, datetime) else value
            for name, value in payload.items()
        }
        signing_input = f"{_segment(header)}.{_segment(claims)}"
        signature = self._signer.sign(signing_input.encode("ascii"))
        return f"{signing_input}.{_b64url(signature)}"


def _segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
