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
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from todo_common.errors import Unauthorized
from todo_common.security.keys import VerifyingKeys, raw_signature
from todo_common.security.tokens import TokenService, TokenType
from todo_common.settings import SecuritySettings

ISSUER = "todo-api-test"
AUDIENCE = "todo-api-test-clients"
LEEWAY_SECONDS = 10
ACCESS_MINUTES = 15
REFRESH_DAYS = 7
USER_ID = "64b000000000000000000042"
# The pinned key (KMS's in the API; a local one here, signing the same way: DER, then r‖s).
KEY = ec.generate_private_key(ec.SECP256R1())
KID = "1234abcd-12ab-34cd-56ef-1234567890ab"
PUBLIC_PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)

# SPEC §4: "Claims iss, aud, sub, role, sid, jti, typ, iat, exp, all required on verification".
SPEC_REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "sid", "jti", "typ", "iat", "exp")


# --- factories -----------------------------------------------------------------------------------


class LocalSigner:
    """What KmsTokenSigner does, with a local key: an ECDSA signature in DER, made raw."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, kid: str) -> None:
        self._key, self.kid = key, kid

    def sign(self, signing_input: bytes) -> bytes:
        return raw_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))


def settings() -> SecuritySettings:
    return SecuritySettings(
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_leeway_seconds=LEEWAY_SECONDS,
        access_token_expire_minutes=ACCESS_MINUTES,
        refresh_token_expire_days=REFRESH_DAYS,
    )


def service(
    signing: tuple[ec.EllipticCurvePrivateKey, str] | None = (KEY, KID),
    verifying: dict[str, ec.EllipticCurvePrivateKey] | None = None,
) -> TokenService:
    """A token service signing with `signing` and verifying with `verifying` (by kid)."""
    pinned = verifying if verifying is not None else {KID: KEY}
    keys = VerifyingKeys({kid: key.public_key() for kid, key in pinned.items()})
    return TokenService(settings(), keys, LocalSigner(*signing) if signing else None)


@pytest.fixture
def tokens() -> TokenService:
    return service()


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


def sign(
    payload: dict[str, Any],
    key: Any = KEY,
    algorithm: str = "ES256",
    headers: dict[str, Any] | None = None,
) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": KID, **(headers or {})})


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

    assert (header["alg"], header["kid"], header["typ"]) == ("ES256", KID, "JWT")
    assert set(SPEC_REQUIRED_CLAIMS) <= set(payload)
    assert (payload["iss"], payload["aud"], payload["typ"]) == (ISSUER, AUDIENCE, "access")


def test_given_a_token_built_by_pyjwt_with_the_pinned_key_then_it_is_accepted(
    tokens: TokenService,
) -> None:
    """The format is standard JWS: what the key signs, PyJWT's way or KMS's, verifies."""
    verified = tokens.verify(sign(claims(role="ADMIN")), TokenType.ACCESS)

    assert verified.role == "ADMIN"


def test_given_an_issued_token_then_another_service_verifies_it_with_the_jwks_alone(
    tokens: TokenService,
) -> None:
    """What `GET /.well-known/jwks.json` publishes is enough: PyJWT, the JWK, ES256."""
    token = tokens.issue_pair(USER_ID, "USER", "session-1").access_token
    [jwk] = tokens.jwks()["keys"]

    public = jwt.PyJWK.from_dict(jwk).key
    payload = jwt.decode(token, public, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)

    assert payload["sub"] == USER_ID
    assert (jwk["kid"], jwk["alg"], jwk["crv"], jwk["use"]) == (KID, "ES256", "P-256", "sig")
    assert "d" not in jwk  # never the private part


def test_given_a_rotation_then_tokens_of_the_previous_key_verify_until_it_is_removed() -> None:
    # Given a token signed by the key in use today
    old_token = service().issue_pair(USER_ID, "USER", "session-1").access_token
    new_key, new_kid = ec.generate_private_key(ec.SECP256R1()), "new-key"

    # When the new key signs and the old one still verifies
    rotated = service(signing=(new_key, new_kid), verifying={new_kid: new_key, KID: KEY})

    # Then the old token is accepted, and new tokens carry the new kid
    assert rotated.verify(old_token, TokenType.ACCESS).sub == USER_ID
    new_token = rotated.issue_pair(USER_ID, "USER", "session-2").access_token
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert rotated.verify(new_token, TokenType.ACCESS).sid == "session-2"

    # And once the old key is removed, its token is refused and the new one is not
    after = service(signing=(new_key, new_kid), verifying={new_kid: new_key})
    assert_refused(after, old_token, TokenType.ACCESS)
    assert after.verify(new_token, TokenType.ACCESS).sid == "session-2"


def test_given_a_function_without_a_signing_key_then_it_verifies_but_cannot_issue() -> None:
    verifier = service(signing=None)
    token = service().issue_pair(USER_ID, "USER", "session-1").access_token

    assert verifier.verify(token, TokenType.ACCESS).sub == USER_ID
    with pytest.raises(RuntimeError, match="does not sign"):
        verifier.issue_pair(USER_ID, "USER", "session-1")


def test_given_a_der_signature_then_raw_signature_is_r_and_s_of_32_bytes_each() -> None:
    der = KEY.sign(b"message", ec.ECDSA(hashes.SHA256()))

    raw = raw_signature(der)

    assert len(raw) == 64
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    KEY.public_key().verify(encode_dss_signature(r, s), b"message", ec.ECDSA(hashes.SHA256()))


def test_given_a_token_expired_within_the_leeway_then_it_is_still_accepted(
    tokens: TokenService,
) -> None:
    now = int(time.time())
    token = sign(claims(iat=now - 900, exp=now - 3))

    assert tokens.verify(token, TokenType.ACCESS).sub == USER_ID


# --- refused -------------------------------------------------------------------------------------


def test_given_an_alg_none_token_then_it_is_refused(tokens: TokenService) -> None:
    token = forge({"alg": "none", "typ": "JWT", "kid": KID}, claims(role="ADMIN"), hmac_key=None)

    assert_refused(tokens, token, TokenType.ACCESS)


def test_given_an_alg_none_header_over_an_hmac_signature_then_it_is_refused(
    tokens: TokenService,
) -> None:
    """The header's `alg` is never trusted, whatever the signature bytes happen to be."""
    token = forge({"alg": "none", "typ": "JWT", "kid": KID}, claims(), hmac_key=PUBLIC_PEM)

    assert_refused(tokens, token, TokenType.ACCESS)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_given_an_hmac_token_whose_secret_is_the_public_key_then_it_is_refused(
    tokens: TokenService, alg: str
) -> None:
    """Algorithm confusion: the public key (anyone's, from the JWKS) used as an HMAC secret."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    der = KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (PUBLIC_PEM, der):
        signing_input = f"{_segment({'alg': alg, 'kid': KID})}.{_segment(claims(role='ADMIN'))}"
        mac = hmac.new(secret, signing_input.encode(), digest).digest()

        assert_refused(tokens, f"{signing_input}.{_b64url(mac)}", TokenType.ACCESS)


def test_given_a_token_signed_by_a_key_outside_the_allow_list_then_it_is_refused(
    tokens: TokenService,
) -> None:
    """An attacker's own P-256 key, under its own kid or under the pinned key's."""
    attacker = ec.generate_private_key(ec.SECP256R1())

    assert_refused(tokens, sign(claims(role="ADMIN"), key=attacker), TokenType.ACCESS)
    own_kid = sign(claims(role="ADMIN"), key=attacker, headers={"kid": "attacker"})
    assert_refused(tokens, own_kid, TokenType.ACCESS)


@pytest.mark.parametrize(
    "header",
    [{"kid": "unknown"}, {}, {"kid": 7}, {"kid": ""}, {"kid": [KID]}],
    ids=["unknown", "absent", "a-number", "empty", "a-list"],
)
def test_given_an_unknown_or_missing_kid_over_the_pinned_keys_signature_then_it_is_refused(
    tokens: TokenService, header: dict[str, Any]
) -> None:
    """The signature is good, but only the kid picks the key: no kid of the set, no key."""
    signing_input = f"{_segment({'alg': 'ES256', 'typ': 'JWT', **header})}.{_segment(claims())}"
    signature = LocalSigner(KEY, KID).sign(signing_input.encode())

    assert_refused(tokens, f"{signing_input}.{_b64url(signature)}", TokenType.ACCESS)


@pytest.mark.parametrize("pointer", ["jku", "jwk", "x5u", "x5c"])
def test_given_a_header_pointing_at_an_attackers_key_then_it_is_refused(
    tokens: TokenService, pointer: str
) -> None:
    """Given a token signed by the attacker's key, whose header says where to find it, then 401;
    and a header naming a key is refused even over the pinned key's genuine signature."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    attacker_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(attacker.public_key()))
    where = {
        "jku": "https://attacker.example/jwks.json",
        "jwk": attacker_jwk,
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }[pointer]

    assert_refused(
        tokens, sign(claims(role="ADMIN"), attacker, headers={pointer: where}), TokenType.ACCESS
    )
    assert_refused(tokens, sign(claims(), headers={pointer: where}), TokenType.ACCESS)


def test_given_an_rs256_token_from_a_foreign_key_then_it_is_refused(tokens: TokenService) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(role="ADMIN"), private_key, algorithm="RS256", headers={"kid": KID})

    assert_refused(tokens, token, TokenType.ACCESS)


def test_given_an_es256_header_over_an_hmac_of_the_public_key_then_it_is_refused(
    tokens: TokenService,
) -> None:
    """The classic confusion (CVE-2024-33663 in python-jose), under the header it would need."""
    es256_header = forge({"alg": "ES256", "kid": KID}, claims(role="ADMIN"), PUBLIC_PEM)
    hs256_header = forge({"alg": "HS256", "kid": KID}, claims(role="ADMIN"), PUBLIC_PEM)

    assert_refused(tokens, es256_header, TokenType.ACCESS)
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
