"""`servers.py provision` fills a moto it did not start (docker-compose.yml's, for
`sam local start-api`) with what the functions read there: the keys and the bucket
`env.json.example` names, and the secrets todo/<stage>/* the template names.

It runs here against the test profile's moto, each test in a Region of its own, so the keys,
aliases and secrets of the suite's us-east-1 are never touched. There is no Docker here: the
last test gives the users and projects functions exactly the variables `sam local` would, with
the compose file's host names turned into this suite's servers, and logs in.
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
from pymongo import MongoClient

from devtools.lambda_env import function_environment
from devtools.template import load_template
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


# -- a function given what `sam local` gives it -----------------------------------------------

# Each runs in a process of its own, as in a Lambda container: what it is given is all it has.
LOG_IN = """
import json, sys
from tests.integration.lambda_events import FunctionApi

users = FunctionApi("users")
login = users.request("POST", "/auth/login", json={"email": sys.argv[1], "password": sys.argv[2]})
token = login.json().get("access_token", "") if login.status == 200 else ""
me = users.request("GET", "/users/me", token=token)
print(json.dumps({"login": login.status, "me": me.status, "email": me.json().get("email"),
                  "token": token}))
"""
GET = """
import json, sys
from tests.integration.lambda_events import FunctionApi

folder, path, token = sys.argv[1:4]
response = FunctionApi(folder).request("GET", path, token=token, query=json.loads(sys.argv[4]))
print(json.dumps({"status": response.status, "body": response.json()}))
"""


def _run(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def _sam_local_environment(function: str, region: str) -> dict[str, str]:
    """`function`'s variables as `sam local start-api --env-vars env.json.example` sets them
    (the template's for Stage=local, env.json's over the ones it declares), with the compose
    file's host names turned into this suite's servers."""
    template = load_template(ROOT / "template.yaml")
    fn = template.functions[function]
    env = function_environment(template, fn, {})
    env |= {name: value for name, value in ENV_JSON.items() if name in fn.environment}
    here = {
        "http://moto:5000": _endpoint(),
        "http://elasticmq:9324": os.environ["AWS_ENDPOINT_URL_SQS"],
    }
    for compose, local in here.items():
        env = {name: value.replace(compose, local) for name, value in env.items()}
    if "REDIS_HOST" in env:
        env |= {"REDIS_HOST": os.environ["REDIS_HOST"], "REDIS_PORT": os.environ["REDIS_PORT"]}
    # What SAM adds for every function (the Region of samconfig.toml, here the test's own), and
    # the FerretDB adapter that the compose file's MongoDB does not need
    runtime = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    runtime |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    runtime |= {"DATABASE_SERVER": os.environ.get("DATABASE_SERVER", "mongodb")}
    return env | runtime


def test_the_functions_log_in_and_check_tokens_with_only_what_sam_local_gives_them() -> None:
    region, bucket = "ap-southeast-2", _bucket()
    local = _client("secretsmanager", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))

    def suite_secret(name: str) -> str:
        return str(local.get_secret_value(SecretId=name)["SecretString"])

    database_uri = suite_secret(os.environ["DATABASE_URI_SECRET"])
    redis_password = suite_secret(os.environ["REDIS_PASSWORD_SECRET"])
    done = _provision(
        "--endpoint",
        _endpoint(),
        "--region",
        region,
        "--digest-bucket",
        bucket,
        # One argument each: a random password may start with "-", which argparse would take
        # for an option.
        f"--database-uri={database_uri}",
        f"--redis-password={redis_password}",
    )
    assert done.returncode == 0, done.stderr
    sqs = _client("sqs", region)  # ElasticMQ creates them in the compose file
    for queue in ("todo-audit", "todo-webhook-deliveries"):
        sqs.create_queue(QueueName=queue)
    users = _sam_local_environment("UsersFunction", region)
    projects = _sam_local_environment("ProjectsFunction", region)
    reports = _sam_local_environment("ReportsFunction", region)
    assert users["DATABASE_NAME"] == projects["DATABASE_NAME"] == "todo-local"
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{ROOT / 'layers/common'}:{ROOT}"}
    # boto3's endpoint for any service without one of its own: nothing listens there, so a
    # variable the function lacks fails here, never by calling AWS
    base["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    email, password = "sam-local@example.com", secrets.token_urlsafe(12)
    # The docs' first steps: the indexes and the first ADMIN, with the database URI outright
    operator = base | {"DATABASE_URI": database_uri, "DATABASE_NAME": "todo-local"}
    operator |= {"DATABASE_SERVER": users["DATABASE_SERVER"], "ADMIN_PASSWORD": password}
    mongo: MongoClient[dict[str, Any]] = MongoClient(database_uri)
    try:
        for command in (["create-indexes"], ["create-admin", "--email", email]):
            cli = subprocess.run(
                [sys.executable, "-m", "todo_common.cli", *command],
                env=operator,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert cli.returncode == 0, cli.stdout + cli.stderr
        logged_in = _run(LOG_IN, base | users, email, password)
        token = str(logged_in["token"])
        listed = _run(GET, base | projects, "projects", "/projects", token, "{}")
        day = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-03T00:00:00Z"}
        verified = _run(GET, base | reports, "reports", "/audits/verify", token, json.dumps(day))
    finally:
        mongo.drop_database("todo-local")
        mongo.close()

    # The users function signs with the token key env.json names; the others, which cannot
    # sign, verify with its public key
    assert (logged_in["login"], logged_in["me"], logged_in["email"]) == (200, 200, email)
    assert listed["status"] == 200, listed
    # The trail's check reads the digest store and the digest key's public key
    assert verified["status"] == 200, verified
