"""JWT access and refresh tokens (SPEC §4): what the API accepts, and everything it refuses.

Tokens under test are built with PyJWT directly (or by hand, for forgeries PyJWT will not make),
so the tests do not trust the code they check. Every refusal is a 401 with `WWW-Authenticate:
Bearer`, the signal a client uses to log in again or refresh.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from todo_common.errors import Unauthorized
from todo_common.security.tokens import TokenService, TokenType
from todo_common.settings import SecuritySettings

SECRET = secrets.token_urlsafe(48)
ISSUER = "todo-api-test"
AUDIENCE = "todo-api-test-clients"
LEEWAY_SECONDS = 10
ACCESS_MINUTES = 15
REFRESH_DAYS = 7
USER_ID = "64b000000000000000000042"

# SPEC §4: "Claims iss, aud, sub, role, sid, jti, typ, iat, exp, all required on verification".
SPEC_REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "sid", "jti", "typ", "iat", "exp")


# --- factories -----------------------------------------------------------------------------------


@pytest.fixture
def tokens() -> TokenService:
    return TokenService(
        SecuritySettings(
            secret_key=SECRET,
            jwt_algorithm="HS256",
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            jwt_leeway_seconds=LEEWAY_SECONDS,
            access_token_expire_minutes=ACCESS_MINUTES,
            refresh_token_expire_days=REFRESH_DAYS,
        )
    )


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid access-token payload; pass `name=...` to change a claim, `name=None` to drop it."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": USER_ID,
        "role": "USER",
        "sid": "session-1",
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def sign(payload: dict[str, Any], key: str | bytes = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def forge(header: dict[str, Any], payload: dict[str, Any], hmac_key: bytes | None) -> str:
    """A token assembled by hand: HMAC-SHA256 over it with `hmac_key`, or no signature at all."""
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    signature = b""
    if hmac_key is not None:
        signature = hmac.new(hmac_key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def assert_refused(service: TokenService, token: str, expected: TokenType) -> Unauthorized:
    with pytest.raises(Unauthorized) as refused:
        service.verify(token, expected)
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    return refused.value


# --- accepted ------------------------------------------------------------------------------------


def test_given_an_issued_pair_when_each_token_is_verified_then_the_claims_round_trip(
    tokens: TokenService,
) -> None:
    pair = tokens.issue_pair(USER_ID, "MANAGER", "session-7")

    access = tokens.verify(pair.access_token, TokenType.ACCESS)
    refresh = tokens.verify(pair.refresh_token, TokenType.REFRESH)

    assert (access.sub, access.role, access.sid, access.typ) == (
        USER_ID,
        "MANAGER",
        "session-7",
        TokenType.ACCESS,
    )
    assert (refresh.sub, refresh.role, refresh.sid, refresh.typ) == (
        USER_ID,
        "MANAGER",
        "session-7",
        TokenType.REFRESH,
    )
    assert refresh.jti == pair.refresh_jti
    assert access.jti != refresh.jti
    assert pair.expires_in == ACCESS_MINUTES * 60
    assert pair.refresh_expires_in == REFRESH_DAYS * 24 * 3600
    assert abs(access.exp.timestamp() - (time.time() + ACCESS_MINUTES * 60)) < 5


def test_given_an_issued_token_then_it_carries_every_required_claim_and_the_pinned_alg(
    tokens: TokenService,
) -> None:
    pair = tokens.issue_pair(USER_ID, "USER", "session-1")

    header = jwt.get_unverified_header(pair.access_token)
    payload = jwt.decode(pair.access_token, options={"verify_signature": False})

    assert header["alg"] == "HS256"
    assert set(SPEC_REQUIRED_CLAIMS) <= set(payload)
    assert (payload["iss"], payload["aud"], payload["typ"]) == (ISSUER, AUDIENCE, "access")


def test_given_a_token_built_by_pyjwt_with_the_shared_secret_then_it_is_accepted(
    tokens: TokenService,
) -> None:
    """The format is standard JWT: a peer with the secret can mint tokens the API accepts."""
    verified = tokens.verify(sign(claims(role="ADMIN")), TokenType.ACCESS)

    assert verified.role == "ADMIN"


def test_given_a_token_expired_within_the_leeway_then_it_is_still_accepted(
    tokens: TokenService,
) -> None:
    now = int(time.time())
    token = sign(claims(iat=now - 900, exp=now - 3))

    assert tokens.verify(token, TokenType.ACCESS).sub == USER_ID


# --- refused -------------------------------------------------------------------------------------


def test_given_an_alg_none_token_then_it_is_refused(tokens: TokenService) -> None:
    token = forge({"alg": "none", "typ": "JWT"}, claims(role="ADMIN"), hmac_key=None)

    assert_refused(tokens, token, TokenType.ACCESS)


def test_given_an_alg_none_header_over_a_valid_hs256_signature_then_it_is_refused(
    tokens: TokenService,
) -> None:
    """The header's `alg` is never trusted, whatever the signature bytes happen to be."""
    token = forge({"alg": "none", "typ": "JWT"}, claims(), hmac_key=SECRET.encode())

    assert_refused(tokens, token, TokenType.ACCESS)


def test_given_a_token_signed_with_hs512_when_hs256_is_configured_then_it_is_refused(
    tokens: TokenService,
) -> None:
    token = sign(claims(), algorithm="HS512")

    assert_refused(tokens, token, TokenType.ACCESS)


def test_given_a_token_signed_with_another_secret_then_it_is_refused(tokens: TokenService) -> None:
    assert_refused(tokens, sign(claims(), key=secrets.token_urlsafe(48)), TokenType.ACCESS)


def test_given_an_rs256_token_from_a_foreign_key_then_it_is_refused(tokens: TokenService) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(role="ADMIN"), private_key, algorithm="RS256")

    assert_refused(tokens, token, TokenType.ACCESS)


def test_given_an_rs256_header_over_an_hmac_of_a_public_key_then_it_is_refused(
    tokens: TokenService,
) -> None:
    """The classic confusion (CVE-2024-33663 in python-jose): sign HMAC with a public key."""
    public_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    rs256_header = forge({"alg": "RS256", "typ": "JWT"}, claims(role="ADMIN"), public_pem)
    hs256_header = forge({"alg": "HS256", "typ": "JWT"}, claims(role="ADMIN"), public_pem)

    assert_refused(tokens, rs256_header, TokenType.ACCESS)
    assert_refused(tokens, hs256_header, TokenType.ACCESS)


def test_given_a_genuine_token_whose_payload_is_tampered_then_it_is_refused(
    tokens: TokenService,
) -> None:
    """Given a USER's real token, when the role is changed to ADMIN without re-signing, then 401."""
    genuine = tokens.issue_pair(USER_ID, "USER", "session-1").access_token
    header_part, payload_part, signature_part = genuine.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    payload["role"] = "ADMIN"
    tampered = f"{header_part}.{_segment(payload)}.{signature_part}"

    assert_refused(tokens, tampered, TokenType.ACCESS)


def test_given_a_token_expired_beyond_the_leeway_then_it_is_refused(tokens: TokenService) -> None:
    now = int(time.time())
    token = sign(claims(iat=now - 900, exp=now - LEEWAY_SECONDS - 30))

    refusal = assert_refused(tokens, token, TokenType.ACCESS)

    assert "expired" in refusal.detail.lower()


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iss", "someone-else"), ("aud", "another-api"), ("aud", [AUDIENCE + "-not"])],
    ids=["wrong-iss", "wrong-aud", "wrong-aud-list"],
)
def test_given_a_token_for_another_issuer_or_audience_then_it_is_refused(
    tokens: TokenService, claim: str, value: object
) -> None:
    assert_refused(tokens, sign(claims(**{claim: value})), TokenType.ACCESS)


def test_given_an_access_token_where_a_refresh_token_is_expected_then_it_is_refused(
    tokens: TokenService,
) -> None:
    access_token = tokens.issue_pair(USER_ID, "USER", "session-1").access_token

    assert_refused(tokens, access_token, TokenType.REFRESH)


def test_given_a_refresh_token_where_an_access_token_is_expected_then_it_is_refused(
    tokens: TokenService,
) -> None:
    refresh_token = tokens.issue_pair(USER_ID, "USER", "session-1").refresh_token

    assert_refused(tokens, refresh_token, TokenType.ACCESS)


@pytest.mark.parametrize("expected", list(TokenType))
@pytest.mark.parametrize("missing", SPEC_REQUIRED_CLAIMS)
def test_given_a_token_without_a_required_claim_then_it_is_refused(
    tokens: TokenService, missing: str, expected: TokenType
) -> None:
    token = sign(claims(**{"typ": expected.value, missing: None}))

    assert_refused(tokens, token, expected)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", ""), ("sub", 42), ("role", ""), ("sid", ""), ("jti", ""), ("typ", "id")],
)
def test_given_a_required_claim_that_is_empty_or_of_the_wrong_type_then_it_is_refused(
    tokens: TokenService, claim: str, value: object
) -> None:
    assert_refused(tokens, sign(claims(**{claim: value})), TokenType.ACCESS)


@pytest.mark.parametrize(
    "garbage",
    ["", "not-a-jwt", "a.b.c", "Bearer x.y.z", "e30.e30.", "e30.e30"],
)
def test_given_a_malformed_token_then_it_is_refused(tokens: TokenService, garbage: str) -> None:
    assert_refused(tokens, garbage, TokenType.ACCESS)
