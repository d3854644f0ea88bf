"""Webhook secrets at rest: KMS envelope encryption, so a database dump does not reveal them.

Each secret is encrypted with AES-256-GCM under a data key of its own that KMS generates; only
the data key's KMS-encrypted form is stored beside it. Reading a secret back asks KMS to decrypt
the data key (the delivery function's role may, template.yaml), cached per container so a busy
subscription does not cost a KMS call per attempt. Locally the key lives in moto.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from todo_common.webhooks.models import Sealed

# Bound to every encryption: a data key or ciphertext taken from elsewhere does not open here.
CONTEXT = {"purpose": "todo-webhook-secret"}
_AAD = b"todo-webhook-secret"
CACHED_KEYS = 1024


class SecretsUnavailable(RuntimeError):
    """The KMS key is not configured or KMS cannot be reached."""


class SecretBox:
    def __init__(self, key_id: str | None, client: Any = None) -> None:
        self._key_id = key_id
        self._client = client
        self._keys: dict[str, bytes] = {}  # data keys KMS decrypted, by their encrypted form

    def _kms(self) -> Any:
        if self._client is None:
            from todo_common.audit.signing import kms_client

            self._client = kms_client()
        return self._client

    def seal(self, secret: str) -> Sealed:
        """Encrypt `secret` under a new data key."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._key_id:
            raise SecretsUnavailable("WEBHOOKS_SECRET_KEY_ID is not set")
        try:
            key = self._kms().generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=CONTEXT
            )
        except (BotoCoreError, ClientError) as exc:
            raise SecretsUnavailable(f"KMS could not generate a data key: {exc}") from exc
        nonce = os.urandom(12)
        ciphertext = AESGCM(bytes(key["Plaintext"])).encrypt(nonce, secret.encode(), _AAD)
        return {
            "dataKey": base64.b64encode(bytes(key["CiphertextBlob"])).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }

    def open(self, sealed: Sealed) -> str:
        """The secret `seal` encrypted."""
        data_key = self._data_key(sealed["dataKey"])
        plain = AESGCM(data_key).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), _AAD
        )
        return plain.decode()

    def _data_key(self, blob: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        if blob not in self._keys:
            try:
                answer = self._kms().decrypt(
                    CiphertextBlob=base64.b64decode(blob), EncryptionContext=CONTEXT
                )
            except (BotoCoreError, ClientError) as exc:
                raise SecretsUnavailable(f"KMS could not decrypt a data key: {exc}") from exc
            if len(self._keys) >= CACHED_KEYS:
                self._keys.clear()
            self._keys[blob] = bytes(answer["Plaintext"])
        return self._keys[blob]
