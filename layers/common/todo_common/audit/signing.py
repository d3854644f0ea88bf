"""Signing digests with an asymmetric KMS key, and checking their signatures.

One code path for AWS and for local runs: boto3's KMS client, pointed at moto by
`AWS_ENDPOINT_URL_KMS` locally. The private key never leaves KMS, and only the digest function's
role may call `kms:Sign` (template.yaml), so the functions that write audit records cannot forge a
digest. Anyone allowed `kms:GetPublicKey` can export the public key and check signatures offline.
"""

from __future__ import annotations

import base64
import textwrap
from typing import Any, Protocol

from todo_common.kms import KeyUnavailable, kms_client

__all__ = ["ALGORITHM", "DigestSigner", "KeyUnavailable", "KmsDigestSigner", "kms_client"]

ALGORITHM = "ECDSA_SHA_256"  # the one algorithm of an ECC_NIST_P256 key


class DigestSigner(Protocol):
    def sign(self, digest: bytes) -> tuple[bytes, str]:
        """Sign a 32-byte digest hash; returns the signature and the signing key's ARN."""

    def verify(self, key_id: str, digest: bytes, signature: bytes) -> bool:
        """Whether `signature` is the key's over `digest`; raises `KeyUnavailable`."""


class KmsDigestSigner:
    def __init__(self, key_id: str | None, client: Any = None) -> None:
        self._key_id = key_id
        self._client = client

    def _kms(self) -> Any:
        return self._client if self._client is not None else kms_client()

    def sign(self, digest: bytes) -> tuple[bytes, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._key_id:
            raise KeyUnavailable("AUDIT_DIGEST_KEY_ID is not set: digests cannot be signed")
        try:
            answer = self._kms().sign(
                KeyId=self._key_id, Message=digest, MessageType="RAW", SigningAlgorithm=ALGORITHM
            )
        except (BotoCoreError, ClientError) as exc:
            raise KeyUnavailable(f"KMS could not sign with {self._key_id}: {exc}") from exc
        return bytes(answer["Signature"]), str(answer["KeyId"])

    def verify(self, key_id: str, digest: bytes, signature: bytes) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._kms().verify(
                KeyId=key_id,
                Message=digest,
                MessageType="RAW",
                Signature=signature,
                SigningAlgorithm=ALGORITHM,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in (
                "KMSInvalidSignatureException",
                "ValidationException",
            ):
                return False  # AWS answers an invalid signature with this error
            raise KeyUnavailable(f"KMS could not verify with {key_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise KeyUnavailable(f"KMS could not verify with {key_id}: {exc}") from exc
        return bool(answer["SignatureValid"])

    def public_key(self) -> dict[str, str]:
        """The key's ARN and public key (DER SubjectPublicKeyInfo, base64): an outside verifier
        checks each signature over the digestHash bytes with ECDSA P-256 / SHA-256."""
        if not self._key_id:
            raise KeyUnavailable("AUDIT_DIGEST_KEY_ID is not set")
        answer = self._kms().get_public_key(KeyId=self._key_id)
        return {
            "keyId": str(answer["KeyId"]),
            "publicKey": base64.b64encode(answer["PublicKey"]).decode(),
            "signingAlgorithm": ALGORITHM,
        }


def public_key_pem(key: dict[str, str]) -> str:
    """The exported key (`KmsDigestSigner.public_key`) as PEM, its ARN on a comment line above."""
    body = "\n".join(textwrap.wrap(key["publicKey"], 64))
    return (
        f"# {key['keyId']} ({key['signingAlgorithm']})\n"
        f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"
    )


class PublicKeyVerifier:
    """Checks signatures offline with the exported public key: an auditor needs no KMS access.

    Verifying only (`sign` refuses). Needs the `cryptography` package, which the layer does not
    ship: the auditor runs the CLI from a checkout with the dev requirements.
    """

    def __init__(self, pem: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(pem[pem.index(b"-----BEGIN") :] if b"-----BEGIN" in pem else pem)
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("not an ECC_NIST_P256 public key")
        self._key = key

    def sign(self, digest: bytes) -> tuple[bytes, str]:
        raise KeyUnavailable("a public key verifies signatures; only KMS signs")

    def verify(self, key_id: str, digest: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        # KMS's ECDSA_SHA_256 over a RAW message hashes it with SHA-256 first: so does this.
        try:
            self._key.verify(signature, digest, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True
