"""`servers.py provision` fills a moto it did not start (docker-compose.yml's, for
`sam local start-api`) with what the functions read there: the keys and the bucket
`env.json.example` names, and the secrets todo/<stage>/* the template names.

It runs here against the test profile's moto, each test in a Region of its own, so the keys,
aliases and secrets of the suite's us-east-1 are never touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from typing import Any

import boto3
import pytest
import yaml

from tests.gateway import ROOT

pytestmark = pytest.mark.integration

ENV_JSON = json.loads((ROOT / "env.json.example").read_text())["Parameters"]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def _compose_redis_password() -> str:
    """The password docker-compose.yml starts Redis with, when TODO_REDIS_PASSWORD is unset."""
    command = COMPOSE["redis"]["command"]
    value = command[command.index("--requirepass") + 1]
    default = re.fullmatch(r"\$\{TODO_REDIS_PASSWORD:-(.+)\}", value)
    assert default, value
    return default.group(1)


def _endpoint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_KMS")
    if not endpoint:
        pytest.fail("AWS_ENDPOINT_URL_KMS is not set: run the suite with `make test`")
    return endpoint


def _provision(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "servers.py"), "provision", *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _client(service: str, region: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]  # the service is a parameter
        service,
        endpoint_url=_endpoint(),
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _bucket() -> str:
    return f"todo-audit-digests-{secrets.token_hex(4)}"


def test_provision_creates_the_keys_bucket_and_secrets_that_env_json_and_the_template_name() -> (
    None
):
    region, bucket = "eu-west-3", _bucket()

    done = _provision("--endpoint", _endpoint(), "--region", region, "--digest-bucket", bucket)

    assert done.returncode == 0, done.stderr
    kms = _client("kms", region)
    for variable in ("SECURITY_JWT_SIGNING_KEY_ID", "AUDIT_DIGEST_KEY_ID"):
        key = kms.describe_key(KeyId=ENV_JSON[variable])["KeyMetadata"]
        assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY"), variable
    assert ENV_JSON["SECURITY_JWT_VERIFY_KEY_IDS"] == ENV_JSON["SECURITY_JWT_SIGNING_KEY_ID"]
    # The users function signs a token's signing input with it, and every function verifies it
    token_key = ENV_JSON["SECURITY_JWT_SIGNING_KEY_ID"]
    signed = kms.sign(KeyId=token_key, Message=b"header.payload", SigningAlgorithm="ECDSA_SHA_256")
    assert kms.verify(
        KeyId=token_key,
        Message=b"header.payload",
        Signature=signed["Signature"],
        SigningAlgorithm="ECDSA_SHA_256",
    )["SignatureValid"]
    webhook_key = kms.describe_key(KeyId=ENV_JSON["WEBHOOKS_SECRET_KEY_ID"])["KeyMetadata"]
    assert (webhook_key["KeySpec"], webhook_key["KeyUsage"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
    )
    # The digest store: locked in compliance mode, as template.yaml's local stage has it
    s3 = _client("s3", region)
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 1)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # The secrets, with what a Lambda container on the compose network reaches
    manager = _client("secretsmanager", region)

    def secret(name: str) -> str:
        return str(manager.get_secret_value(SecretId=f"todo/local/{name}")["SecretString"])

    assert secret("database-uri") == "mongodb://mongo:27017/"
    assert secret("redis-password") == _compose_redis_password()
    assert len(secret("hash-key")) >= 32  # the functions refuse a weaker one


def test_provision_again_keeps_the_keys_and_the_hash_key_and_takes_a_new_database_uri() -> None:
    region, bucket = "eu-north-1", _bucket()
    first = _provision("--endpoint", _endpoint(), "--region", region, "--digest-bucket", bucket)
    assert first.returncode == 0, first.stderr
    kms, manager = _client("kms", region), _client("secretsmanager", region)
    aliases = {"alias/todo-tokens", "alias/todo-audit-digests", "alias/todo-webhook-secrets"}

    def keys() -> dict[str, str]:
        listed = kms.list_aliases()["Aliases"]
        return {a["AliasName"]: a["TargetKeyId"] for a in listed if a["AliasName"] in aliases}

    def secret(name: str) -> str:
        return str(manager.get_secret_value(SecretId=f"todo/local/{name}")["SecretString"])

    before, hash_key = keys(), secret("hash-key")

    again = _provision(
        "--endpoint",
        _endpoint(),
        "--region",
        region,
        "--digest-bucket",
        bucket,
        "--database-uri",
        "mongodb://host.docker.internal:27017/",
    )

    assert again.returncode == 0, again.stderr
    assert keys() == before  # tokens issued before still verify
    assert set(before) == aliases
    assert secret("hash-key") == hash_key  # idempotency records made before still match
    assert secret("database-uri") == "mongodb://host.docker.internal:27017/"
    assert "secret todo/local/hash-key: kept" in again.stderr
    assert "secret todo/local/database-uri: updated" in again.stderr


@pytest.mark.parametrize(
    "endpoint", ["https://kms.us-east-1.amazonaws.com", "http://10.0.0.5:5000", "moto:5000"]
)
def test_provision_refuses_an_endpoint_off_this_machine(endpoint: str) -> None:
    refused = _provision("--endpoint", endpoint)

    assert refused.returncode == 1
    assert "is not an http URL on this machine" in refused.stderr
