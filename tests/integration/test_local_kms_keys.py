"""`make dev`'s moto keeps its KMS keys across a restart (devtools/moto_server.py), so digests
signed before the restart still verify with the key that signed them."""

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
def local_moto(state: Path, port: int) -> Iterator[Any]:
    """The launcher on `port`, and a KMS client for it; stopped on exit."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(LAUNCHER),
            "--kms-state",
            str(state),
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
        yield boto3.client(
            "kms",
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
