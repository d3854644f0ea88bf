"""A function's environment in `make dev RUNTIME=lambda`: template.yaml's, resolved locally."""

from __future__ import annotations

from pathlib import Path

from devtools.lambda_env import function_environment
from devtools.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_given_the_template_then_values_are_resolved_for_the_local_stage() -> None:
    env = function_environment(TEMPLATE, TEMPLATE.functions["UsersFunction"], {})

    assert env["POWERTOOLS_SERVICE_NAME"] == "users"  # the function's own over Globals'
    assert env["LOG_LEVEL"] == "DEBUG"  # !FindInMap [StageSettings, local, LogLevel]
    assert env["DATABASE_NAME"] == "todo-local"  # !Sub todo-${Stage}
    assert env["SECURITY_JWT_ISSUER"] == "todo-api-local"
    assert env["REDIS_SSL"] == "false"
    assert env["AWS_ENDPOINT_URL_SQS"] == "http://elasticmq:9324"  # !If [IsLocal, …]


def test_given_secrets_and_resources_then_only_the_local_environment_can_supply_them() -> None:
    bare = function_environment(TEMPLATE, TEMPLATE.functions["TasksFunction"], {})
    local = {
        "SECURITY_JWT_VERIFY_KEY_IDS": "alias/todo-tokens",
        "DATABASE_URI_SECRET": "todo/local/database-uri",
        "AUDIT_QUEUE_URL": "http://127.0.0.1:9324/q",
        "DATABASE_NAME": "todo_test",
    }
    given = function_environment(TEMPLATE, TEMPLATE.functions["TasksFunction"], local)

    for name in ("SECURITY_JWT_VERIFY_KEY_IDS", "AUDIT_QUEUE_URL"):
        assert name not in bare  # a key's or a queue's Ref: AWS only
    assert given.items() >= local.items()


def test_given_other_local_variables_then_only_what_lambda_itself_sets_is_passed_on() -> None:
    local = {"HOME": "/root", "VIRTUAL_ENV": "/x/.venv", "AWS_REGION": "eu-west-1"}

    env = function_environment(TEMPLATE, TEMPLATE.functions["DocsFunction"], local)

    assert "HOME" not in env
    assert "VIRTUAL_ENV" not in env
    assert env["AWS_REGION"] == "eu-west-1"


def test_unrouted_requests_go_to_the_docs_function_as_the_default_route() -> None:
    assert TEMPLATE.default_route == "DocsFunction"


def test_given_local_aws_endpoints_then_every_function_gets_them() -> None:
    # A function in the RIE must reach moto's KMS, Secrets Manager and S3, never a real AWS
    # endpoint (which it would first look up in DNS), though the template declares none of them
    local = {
        "AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:9424",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:9424",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9424",
        "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9424",
    }

    for fn in TEMPLATE.functions.values():
        assert function_environment(TEMPLATE, fn, local).items() >= local.items(), fn.logical_id
