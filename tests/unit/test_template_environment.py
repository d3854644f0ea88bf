"""Least privilege in `template.yaml`: each function is given the settings it uses, no other.

The signing key, the Redis password and the database URI are secrets: a function that does not
use one must not hold it (the docs function holds none; the audit functions no signing key or
Redis password). The table below is this test's own: a new function, or a setting given to one
that did not have it, must be decided here.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from devtools.template import _CfnLoader, load_template
from tests.gateway import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")


def _resources() -> dict[str, Any]:
    doc = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    resources: dict[str, Any] = doc["Resources"]  # (a SafeLoader subclass, for !Ref and co.)
    return resources


RESOURCES = _resources()
# Where the compose file's services are, for `sam local` only (docs/local-sam.md): each function
# is told the endpoint of every AWS service it calls, and of no other.
KMS, SQS, S3 = {"AWS_ENDPOINT_URL_KMS"}, {"AWS_ENDPOINT_URL_SQS"}, {"AWS_ENDPOINT_URL_S3"}
SECRETS_MANAGER = {"AWS_ENDPOINT_URL_SECRETS_MANAGER"}
TOKENS = {"SECURITY_JWT_ISSUER", "SECURITY_JWT_AUDIENCE", "SECURITY_JWT_VERIFY_KEY_IDS"} | KMS
SIGNS_TOKENS = {"SECURITY_JWT_SIGNING_KEY_ID"}
HASHES = {"SECURITY_HASH_KEY_SECRET"}  # idempotency records, log lines: the functions that write
DATABASE = {"DATABASE_URI_SECRET", "DATABASE_NAME", "SECRETS_REVISION"} | SECRETS_MANAGER
REDIS = {"REDIS_HOST", "REDIS_PORT", "REDIS_SSL", "REDIS_PASSWORD_SECRET"}
QUEUE = {"AUDIT_QUEUE_URL"} | SQS
# The key and the write-once store
DIGESTS = {"AUDIT_DIGEST_KEY_ID", "AUDIT_DIGEST_BUCKET"} | KMS | S3
WEBHOOK_QUEUE = {"WEBHOOKS_QUEUE_URL"} | SQS
WEBHOOK_SECRETS = {"WEBHOOKS_SECRET_KEY_ID"} | KMS
EVERY_FUNCTION = {
    "APP_NAME",
    "APP_DEBUG",
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",  # metrics (todo_common/metrics.py)
    "POWERTOOLS_TRACE_DISABLED",  # tracing (todo_common/tracing.py)
}

USES = {
    "UsersFunction": TOKENS | SIGNS_TOKENS | HASHES | DATABASE | REDIS | QUEUE,
    "ProjectsFunction": TOKENS | HASHES | DATABASE | REDIS | QUEUE,
    "TasksFunction": TOKENS | HASHES | DATABASE | REDIS | QUEUE,
    "ReportsFunction": TOKENS | DATABASE | REDIS | DIGESTS,
    "DocsFunction": set(),
    "AuditConsumerFunction": DATABASE | WEBHOOK_QUEUE,
    "AuditRelayFunction": DATABASE | QUEUE,
    "AuditDigestFunction": DATABASE
    | DIGESTS
    | {"AUDIT_DIGEST_PERIOD_SECONDS", "AUDIT_DIGEST_MARGIN_SECONDS"},
    "WebhooksFunction": TOKENS | DATABASE | REDIS | QUEUE | WEBHOOK_QUEUE | WEBHOOK_SECRETS,
    "WebhookDeliveryFunction": DATABASE | WEBHOOK_QUEUE | WEBHOOK_SECRETS,
    "WebhookSweepFunction": DATABASE | WEBHOOK_QUEUE,
}


def test_every_function_of_the_template_is_decided_here() -> None:
    assert set(TEMPLATE.functions) == set(USES)


@pytest.mark.parametrize("function", sorted(USES))
def test_a_function_is_given_exactly_the_settings_it_uses(function: str) -> None:
    given = set(TEMPLATE.functions[function].environment)
    assert given == EVERY_FUNCTION | USES[function]


# The secrets themselves (issue 19): no function is given one; each reads those it is named.
SECRET_VALUES = ["SECURITY_SECRET_KEY", "SECURITY_HASH_KEY", "REDIS_PASSWORD", "DATABASE_URI"]
SECRET_NAMES = {
    "DATABASE_URI_SECRET": "database-uri",
    "REDIS_PASSWORD_SECRET": "redis-password",
    "SECURITY_HASH_KEY_SECRET": "hash-key",
}


@pytest.mark.parametrize("secret", SECRET_VALUES)
def test_no_function_is_given_a_secret_value(secret: str) -> None:
    holders = {name for name, fn in TEMPLATE.functions.items() if secret in fn.environment}
    assert holders == set()


@pytest.mark.parametrize("function", sorted(USES))
def test_each_role_may_read_the_secrets_its_function_is_named_and_no_other(function: str) -> None:
    environment = TEMPLATE.functions[function].environment
    named = {SECRET_NAMES[variable] for variable in SECRET_NAMES.keys() & environment.keys()}
    for variable in SECRET_NAMES.keys() & environment.keys():
        assert environment[variable] == {"Fn::Sub": f"todo/${{Stage}}/{SECRET_NAMES[variable]}"}
    readable = set()
    for policy in RESOURCES[function]["Properties"].get("Policies") or []:
        if "AWSSecretsManagerGetSecretValuePolicy" in policy:
            arn = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Fn::Sub"]
            prefix = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
            assert arn.startswith(prefix + "secret:todo/${Stage}/"), arn
            assert arn.endswith("-*"), arn  # the random suffix of one secret, not a wildcard
            readable.add(arn.removeprefix(prefix + "secret:todo/${Stage}/").removesuffix("-*"))
        else:
            assert "secretsmanager" not in repr(policy).lower(), policy
    assert readable == named


# -- token keys (issue 19): only the users function may sign ---------------------------------

TOKEN_KEYS = sorted(
    name
    for name, resource in RESOURCES.items()
    if resource["Type"] == "AWS::KMS::Key" and name.startswith("TokenKey")
)


def _statements(key: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = RESOURCES[key]["Properties"]["KeyPolicy"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _principals(statement: dict[str, Any]) -> list[Any]:
    principal = statement["Principal"]
    if principal == "*":
        return ["*"]
    aws = principal["AWS"]
    return aws if isinstance(aws, list) else [aws]


def test_the_stack_creates_two_ecc_token_keys_to_rotate_between() -> None:
    assert TOKEN_KEYS == ["TokenKeyBlue", "TokenKeyGreen"]
    for key in TOKEN_KEYS:
        properties = RESOURCES[key]["Properties"]
        assert (properties["KeySpec"], properties["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")


@pytest.mark.parametrize("key", TOKEN_KEYS)
def test_only_the_users_function_may_sign_with_a_token_key(key: str) -> None:
    users_role = {"Fn::GetAtt": ["UsersFunctionRole", "Arn"]}
    statements = _statements(key)
    allowed = [
        principal
        for st in statements
        if st["Effect"] == "Allow" and any(a in ("kms:Sign", "kms:*", "*") for a in _actions(st))
        for principal in _principals(st)
    ]
    # No wildcard grants it either (kms:Get* and kms:Describe* are not Sign).
    assert allowed == [users_role]
    [deny] = [st for st in statements if st["Effect"] == "Deny" and "kms:Sign" in _actions(st)]
    assert _principals(deny) == ["*"]
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": users_role}}


def test_no_function_is_granted_kms_sign_by_its_own_policies() -> None:
    for name in TEMPLATE.functions:
        policies = RESOURCES[name]["Properties"].get("Policies") or []
        assert "kms:Sign" not in repr(policies), name
        assert "KMS" not in repr(policies), name  # no SAM KMS policy template either


def test_only_the_users_function_is_told_the_signing_key() -> None:
    holders = {n for n, fn in TEMPLATE.functions.items() if SIGNS_TOKENS & fn.environment.keys()}
    assert holders == {"UsersFunction"}


@pytest.mark.parametrize("function", sorted(TEMPLATE.functions))
def test_no_function_environment_holds_a_secret_or_a_reference_to_one(function: str) -> None:
    """`{{resolve:secretsmanager}}` resolves into plain text that lambda:GetFunctionConfiguration
    shows: a secret is read at run time instead (todo_common/secrets_manager.py)."""
    environment = TEMPLATE.functions[function].environment
    assert "resolve:secretsmanager" not in repr(environment)
    assert "resolve:ssm-secure" not in repr(environment)
