"""`make dev`'s moto keeps its KMS keys and the audit digest store across a restart
(devtools/moto_server.py), so digests signed before the restart still verify with the key that
signed them, and the store still holds them, locked, with the times S3 stored them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "devtools" / "moto_server.py"

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - a local http URL
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@contextmanager
def local_moto(
    state: Path, port: int, service: str = "kms", extra: tuple[str, ...] = ()
) -> Iterator[Any]:
    """The launcher on `port`, and a client of `service` for it; stopped on exit."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(LAUNCHER),
            "--kms-state",
            str(state),
            *extra,
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            assert proc.poll() is None, "the launcher exited"
            assert time.monotonic() < deadline, "the launcher did not answer"
            time.sleep(0.1)
        yield boto3.client(  # type: ignore[call-overload]  # the service is a parameter
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_given_a_key_when_moto_restarts_then_the_same_key_verifies_its_old_signatures(
    tmp_path: Path,
) -> None:
    state = tmp_path / "kms-keys.json"
    port = _free_port()
    message = bytes(range(32))
    with local_moto(state, port) as kms:
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
            "KeyId"
        ]
        signature = kms.sign(
            KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )["Signature"]
        public_key = kms.get_public_key(KeyId=key_id)["PublicKey"]

    with local_moto(state, port) as kms:
        verified = kms.verify(
            KeyId=key_id,
            Message=message,
            MessageType="RAW",
            Signature=signature,
            SigningAlgorithm="ECDSA_SHA_256",
        )
        assert verified["SignatureValid"] is True
        assert kms.get_public_key(KeyId=key_id)["PublicKey"] == public_key

    assert state.stat().st_mode & 0o077 == 0  # private keys: readable by their owner only


def test_given_digests_in_the_dev_store_when_moto_restarts_then_they_are_kept_locked_with_their_times(  # noqa: E501
    tmp_path: Path,
) -> None:
    bucket = "todo-audit-digests"
    store = ("--s3-state", str(tmp_path / "digests.jsonl"), "--s3-bucket", bucket)
    port = _free_port()
    with local_moto(tmp_path / "kms-keys.json", port, "s3", store) as s3:
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
            },
        )
        s3.put_object(Bucket=bucket, Key="digests/a.json", Body=b'{"a": 1}', IfNoneMatch="*")
        before = s3.head_object(Bucket=bucket, Key="digests/a.json")

    with local_moto(tmp_path / "kms-keys.json", port, "s3", store) as s3:
        after = s3.head_object(Bucket=bucket, Key="digests/a.json")
        body = s3.get_object(Bucket=bucket, Key="digests/a.json")["Body"].read()
        with pytest.raises(ClientError) as taken:  # still write-once
            s3.put_object(Bucket=bucket, Key="digests/a.json", Body=b"{}", IfNoneMatch="*")
        with pytest.raises(ClientError) as locked:  # still locked
            s3.delete_object(Bucket=bucket, Key="digests/a.json", VersionId=after["VersionId"])
        s3.put_object(Bucket=bucket, Key="digests/b.json", Body=b"{}", IfNoneMatch="*")
        added = s3.head_object(Bucket=bucket, Key="digests/b.json")

    assert taken.value.response["Error"]["Code"] == "PreconditionFailed"
    assert locked.value.response["Error"]["Code"] == "AccessDenied"
    assert added["ObjectLockMode"] == "COMPLIANCE"  # the bucket's default lock, restored too

    assert body == b'{"a": 1}'
    assert after["LastModified"] == before["LastModified"]
    assert after["ObjectLockMode"] == "COMPLIANCE"
