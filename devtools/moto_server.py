"""moto's server for `make dev`, with KMS keys and the audit digest store that survive a restart.

    python devtools/moto_server.py --kms-state FILE [--s3-state FILE --s3-bucket NAME]
        [moto.server's arguments: -H HOST -p PORT]

moto keeps its state in memory. The audit trail's digests, though, stay in the dev database across
restarts, and each carries the id of the KMS key that signed it: with a new key after every
restart, `verify-audit` could no longer check the older signatures. So this launcher writes every
KMS key moto creates (account, region, id, spec, usage, description and private key, PEM) to FILE,
and recreates those keys, same ids and same private keys, when it starts.

The digest store (an S3 bucket with Object Lock, `--s3-bucket`) is the chain's truth, and the dev
database keeps its copies of the digests: with an empty store after a restart, the digest function
would sign the whole trail again and the verifier would report every copy. So every object put in
that bucket is appended to the `--s3-state` file (key, body, when S3 stored it), and put back, with
its time and its lock, when the launcher starts.

Development only: the KMS file holds private keys, which a real KMS never hands out; it lives in the
git-ignored data folder of the dev profile (`scripts/servers.py`). Tests and benchmarks use plain
moto, fresh each run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from moto.kms import models
from moto.s3 import models as s3_models
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


# --- the audit digest store (issue 18) -----------------------------------------------------


def restore_objects(path: Path, bucket_name: str) -> int:
    """Create the locked, versioned bucket and put its saved objects back, oldest first, each
    with the time S3 first stored it; returns how many."""
    if not path.is_file():
        return 0
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for record in records:
        backend = s3_models.s3_backends[record["account"]]["aws"]
        if bucket_name not in backend.buckets:
            bucket = backend.create_bucket(bucket_name, record["region"])
            bucket.object_lock_enabled = True  # as CreateBucket's ObjectLockEnabledForBucket
            bucket.versioning_status = "Enabled"
            backend.put_object_lock_configuration(bucket_name, True, "COMPLIANCE", days=1, years=0)
        key = backend.put_object(
            bucket_name,
            record["key"],
            base64.b64decode(record["body"]),
            lock_mode=record.get("lockMode"),
            lock_until=record.get("lockUntil"),
        )
        key.last_modified = datetime.fromisoformat(record["storedAt"])
    return len(records)


def persist_new_objects(path: Path, bucket_name: str) -> None:
    """From now on, append every object put in `bucket_name` to the file."""
    put_object = s3_models.S3Backend.put_object

    def put_and_save(self: s3_models.S3Backend, *args: Any, **kwargs: Any) -> Any:
        key = put_object(self, *args, **kwargs)
        if key.bucket_name == bucket_name:
            record = {
                "account": self.account_id,
                "region": self.get_bucket(bucket_name).region_name,
                "key": key.name,
                "body": base64.b64encode(key.value).decode(),
                "storedAt": key.last_modified.isoformat(),
                "lockMode": key.lock_mode,
                "lockUntil": key.lock_until,
            }
            with _lock, path.open("a") as saved:
                saved.write(json.dumps(record) + "\n")
        return key

    s3_models.S3Backend.put_object = put_and_save  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kms-state", type=Path, required=True)
    parser.add_argument("--s3-state", type=Path)
    parser.add_argument("--s3-bucket")
    options, moto_args = parser.parse_known_args(argv)
    options.kms_state.parent.mkdir(parents=True, exist_ok=True)
    restored = restore(options.kms_state)
    print(f"moto_server: {restored} KMS key(s) restored from {options.kms_state}", flush=True)
    persist_new_keys(options.kms_state)
    if options.s3_state is not None and options.s3_bucket:
        objects = restore_objects(options.s3_state, options.s3_bucket)
        print(f"moto_server: {objects} object(s) of {options.s3_bucket} restored", flush=True)
        persist_new_objects(options.s3_state, options.s3_bucket)
    moto_main(moto_args)


if __name__ == "__main__":
    main(sys.argv[1:])
