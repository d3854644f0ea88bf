"""moto's server for `make dev`, with KMS keys that survive a restart.

    python devtools/moto_server.py --kms-state FILE [moto.server's arguments: -H HOST -p PORT]

moto keeps its state in memory. The audit trail's digests, though, stay in the dev database across
restarts, and each carries the id of the KMS key that signed it: with a new key after every
restart, `verify-audit` could no longer check the older signatures. So this launcher writes every
KMS key moto creates (account, region, id, spec, usage, description and private key, PEM) to FILE,
and recreates those keys, same ids and same private keys, when it starts.

Development only: the file holds private keys, which a real KMS never hands out; it lives in the
git-ignored data folder of the dev profile (`scripts/servers.py`). Tests and benchmarks use plain
moto, fresh each run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from moto.kms import models
from moto.server import main as moto_main

_lock = threading.Lock()


def _saved(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    keys: list[dict[str, Any]] = json.loads(path.read_text())
    return keys


def _key_record(account: str, region: str, key: Any) -> dict[str, Any] | None:
    private = getattr(key.private_key, "private_key", None)
    if private is None:
        return None  # a symmetric key: nothing of it outlives its ciphertexts here
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "account": account,
        "region": region,
        "id": key.id,
        "arn": key.arn,
        "spec": key.key_spec,
        "usage": key.key_usage,
        "description": key.description,
        "privateKey": pem.decode(),
    }


def save(path: Path) -> None:
    with _lock:
        records = [
            record
            for account, regions in models.kms_backends.items()
            for region, backend in regions.items()
            for key in list(backend.keys.values())
            if (record := _key_record(account, region, key)) is not None
        ]
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(records, indent=1))
        os.chmod(partial, 0o600)
        partial.replace(path)


def restore(path: Path) -> int:
    """Recreate the saved keys in moto's backends; returns how many."""
    records = _saved(path)
    for record in records:
        backend = models.kms_backends[record["account"]][record["region"]]
        key = backend.create_key(None, record["usage"], record["spec"], record["description"], None)
        del backend.keys[key.id]
        key.id, key.arn = record["id"], record["arn"]
        signer: Any = key.private_key  # moto's wrapper around a `cryptography` private key
        signer.private_key = serialization.load_pem_private_key(
            record["privateKey"].encode(), password=None
        )
        backend.keys[key.id] = key
    return len(records)


def persist_new_keys(path: Path) -> None:
    """From now on, write the file again whenever moto creates a key."""
    create_key = models.KmsBackend.create_key

    def create_and_save(self: models.KmsBackend, *args: Any, **kwargs: Any) -> Any:
        key = create_key(self, *args, **kwargs)
        save(path)
        return key

    models.KmsBackend.create_key = create_and_save  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kms-state", type=Path, required=True)
    options, moto_args = parser.parse_known_args(argv)
    options.kms_state.parent.mkdir(parents=True, exist_ok=True)
    restored = restore(options.kms_state)
    print(f"moto_server: {restored} KMS key(s) restored from {options.kms_state}", flush=True)
    persist_new_keys(options.kms_state)
    moto_main(moto_args)


if __name__ == "__main__":
    main(sys.argv[1:])
