"""Least privilege in `template.yaml`: each function is given the settings it uses, no other.

The signing key, the Redis password and the database URI are secrets: a function that does not
use one must not hold it (the docs function holds none; the audit functions no signing key or
Redis password). The table below is this test's own: a new function, or a setting given to one
that did not have it, must be decided here.
"""

from __future__ import annotations

import pytest

from devtools.template import load_template
from tests.gateway import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
TOKENS = {"SECURITY_SECRET_KEY", "SECURITY_JWT_ISSUER", "SECURITY_JWT_AUDIENCE"}
DATABASE = {"DATABASE_URI", "DATABASE_NAME", "SECRETS_REVISION"}
REDIS = {"REDIS_HOST", "REDIS_PORT", "REDIS_SSL", "REDIS_PASSWORD"}
QUEUE = {"AUDIT_QUEUE_URL", "AWS_ENDPOINT_URL_SQS"}
DIGESTS = {"AUDIT_DIGEST_KEY_ID"}
WEBHOOK_QUEUE = {"WEBHOOKS_QUEUE_URL"}
WEBHOOK_SECRETS = {"WEBHOOKS_SECRET_KEY_ID"}
EVERY_FUNCTION = {
    "APP_NAME",
    "APP_DEBUG",
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",  # metrics (todo_common/metrics.py)
    "POWERTOOLS_TRACE_DISABLED",  # tracing (todo_common/tracing.py)
}

USES = {
    "UsersFunction": TOKENS | DATABASE | REDIS | QUEUE,
    "ProjectsFunction": TOKENS | DATABASE | REDIS | QUEUE,
    "TasksFunction": TOKENS | DATABASE | REDIS | QUEUE,
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


@pytest.mark.parametrize("secret", ["SECURITY_SECRET_KEY", "REDIS_PASSWORD", "DATABASE_URI"])
def test_no_secret_reaches_a_function_that_does_not_use_it(secret: str) -> None:
    holders = {name for name, fn in TEMPLATE.functions.items() if secret in fn.environment}
    assert holders == {name for name, uses in USES.items() if secret in uses}
    assert "DocsFunction" not in holders
