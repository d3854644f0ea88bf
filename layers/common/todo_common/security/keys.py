"""The keys of the tokens: KMS signs them (ES256), a pinned set of public keys verifies them.

The private keys never leave KMS, and only the users function's role may `kms:Sign` with them
(template.yaml), so no function can mint a token by reading another's configuration or memory.
Every function that checks tokens reads the public keys of `SECURITY_JWT_VERIFY_KEY_IDS` (and
of the signing key) once per execution environment: before the SnapStart snapshot, or on first
use without SnapStart (cold start stays free of boto3, docs/decisions.md). A token names its key
by `kid`, the KMS key's id; a `kid` outside that set is refused, whatever else the token says.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

from todo_common import metrics
from todo_common.errors import ServiceUnavailable
from todo_common.kms import KeyUnavailable, request_kms_client
from todo_common.logs import logger
from todo_common.metrics import Dependency

KMS_ALGORITHM = "ECDSA_SHA_256"  # ES256: ECDSA over P-256 with SHA-256
COORDINATE_BYTES = 32  # P-256: r, s, x and y are 32 bytes each
# KMS signs a RAW message of up to 4096 bytes (it hashes it itself); a token's signing input is
# a few hundred bytes. RAW, not DIGEST: moto implements only RAW, and the result is the same.
MAX_SIGNING_INPUT = 4096


class TokenSigner(Protocol):
    @property
    def kid(self) -> str:
        """The `kid` its signatures verify under."""

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS ES256 signature (raw `r‖s`, 64 bytes) over `signing_input`."""


def kid_of(key_arn: str) -> str:
    """A KMS key's `kid`: its key id, the last part of its ARN (no account id in the JWKS)."""
    return key_arn.rsplit("/", 1)[-1]


class VerifyingKeys(NamedTuple):
    """The pinned public keys, by `kid`; the first is the signing key's (when this function
    signs)."""

    keys: Mapping[str, ec.EllipticCurvePublicKey]

    def get(self, kid: object) -> ec.EllipticCurvePublicKey | None:
        return self.keys.get(kid) if isinstance(kid, str) else None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys as a JSON Web Key Set (RFC 7517), for other services to verify."""
        return {"keys": [_jwk(kid, key) for kid, key in self.keys.items()]}


def _jwk(kid: str, key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(COORDINATE_BYTES, "big")),
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=4)
def verifying_keys(key_ids: tuple[str, ...]) -> VerifyingKeys:
    """The public keys of `key_ids`, read from KMS once per execution environment (cached by the
    ids: they are no connection, so a snapshot may keep them); `KeyUnavailable` when one cannot
    be read or is not an ES256 key: the function refuses to start (SPEC §4)."""
    if not key_ids:
        raise KeyUnavailable(
            "no token key is configured: set SECURITY_JWT_VERIFY_KEY_IDS (and, in the users "
            "function, SECURITY_JWT_SIGNING_KEY_ID) to KMS key ids"
        )
    return VerifyingKeys(dict(_read_public_key(key_id) for key_id in key_ids))


def _read_public_key(key_id: str) -> tuple[str, ec.EllipticCurvePublicKey]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = request_kms_client().get_public_key(KeyId=key_id)
    except (BotoCoreError, ClientError) as exc:
        raise KeyUnavailable(f"the public key of token key {key_id} cannot be read: {exc}") from exc
    key = load_der_public_key(bytes(answer["PublicKey"]))
    usable = (
        answer.get("KeyUsage") == "SIGN_VERIFY"
        and KMS_ALGORITHM in answer.get("SigningAlgorithms", ())
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    )
    if not usable or not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyUnavailable(f"token key {key_id} is not an ECC_NIST_P256 SIGN_VERIFY key")
    return kid_of(str(answer["KeyId"])), key


class KmsTokenSigner:
    """Signs with the KMS key `key_id` on a request's path: KMS that does not answer within the
    dependency budget, or refuses, is a 503 (never a 500, never an unsigned token)."""

    def __init__(self, key_id: str, kid: str, client: Any = None) -> None:
        self._key_id = key_id
        self._kid = kid
        self._client = client

    @property
    def kid(self) -> str:
        return self._kid

    def sign(self, signing_input: bytes) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        if len(signing_input) > MAX_SIGNING_INPUT:
            raise ValueError(f"a token's signing input is over {MAX_SIGNING_INPUT} bytes")
        client = self._client if self._client is not None else request_kms_client()
        try:
            answer = client.sign(
                KeyId=self._key_id,
                Message=signing_input,
                MessageType="RAW",
                SigningAlgorithm=KMS_ALGORITHM,
            )
        except (BotoCoreError, ClientError) as exc:
            raise kms_unavailable(exc) from exc
        return raw_signature(bytes(answer["Signature"]))


def kms_unavailable(error: Exception) -> ServiceUnavailable:
    """What a request gets when KMS does not answer or refuses: a 503 (logged, counted)."""
    logger.warning("KMS unavailable", extra={"error": type(error).__name__, "detail": str(error)})
    metrics.dependency_unavailable(Dependency.KMS)
    return ServiceUnavailable("KMS")


def raw_signature(der: bytes) -> bytes:
    """KMS's DER-encoded ECDSA signature as JWS wants it (RFC 7518 §3.4): `r‖s`, 32 bytes each."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")
