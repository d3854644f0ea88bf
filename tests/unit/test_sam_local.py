"""`sam local start-api` (docs/local-sam.md): template.yaml, env.json.example and
docker-compose.yml must agree, or a function in a Lambda container answers 503.

SAM gives a function only the variables the template declares, overridden by `env.json`, and
drops any other without a word; a resource of the stack (a key, a queue, the bucket) exists only
in AWS, so `env.json` must name the local one. What `servers.py provision` creates under those
names is tests/integration/test_sam_local_provision.py.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
import yaml

from devtools.lambda_env import function_environment
from devtools.template import load_template
from tests.gateway import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
ENV_JSON: dict[str, str] = json.loads((ROOT / "env.json.example").read_text())["Parameters"]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
ENDPOINT = re.compile(r"^AWS_ENDPOINT_URL_[A-Z0-9_]+$")
LOCAL_ONLY = {"Ref": "AWS::NoValue"}


def _endpoints() -> list[tuple[str, str, Any]]:
    return [
        (function, name, value)
        for function, fn in sorted(TEMPLATE.functions.items())
        for name, value in sorted(fn.environment.items())
        if ENDPOINT.match(name)
    ]


def _published(service: str) -> dict[int, str]:
    """The container ports `service` publishes, each with the host address it binds."""
    published = {}
    for mapping in COMPOSE[service].get("ports", []):
        # "127.0.0.1:${TODO_MONGO_PORT:-27017}:27017": the host port may be a variable
        published[int(mapping.rsplit(":", 1)[1])] = mapping.split(":", 1)[0]
    return published


def _local_url(value: Any) -> str:
    [(name, (condition, url, otherwise))] = value.items()
    assert (name, condition, otherwise) == ("Fn::If", "IsLocal", LOCAL_ONLY), value
    return str(url)


@pytest.mark.parametrize(("function", "variable", "value"), _endpoints())
def test_an_aws_endpoint_is_declared_for_the_local_stage_only(
    function: str, variable: str, value: Any
) -> None:
    # In AWS a function reaches each service at its Region's own endpoint: none is declared there
    assert isinstance(_local_url(value), str), (function, variable)


@pytest.mark.parametrize(("function", "variable", "value"), _endpoints())
def test_a_local_endpoint_is_a_service_of_docker_compose_on_the_port_it_serves(
    function: str, variable: str, value: Any
) -> None:
    url = urllib.parse.urlsplit(_local_url(value))

    assert url.hostname in COMPOSE, (function, variable, url.hostname)
    assert url.port in _published(url.hostname), (function, variable, url.port)


@pytest.mark.parametrize("service", sorted(COMPOSE))
def test_docker_compose_publishes_its_ports_on_loopback_only(service: str) -> None:
    assert set(_published(service).values()) <= {"127.0.0.1"}, service


def test_docker_compose_serves_kms_secrets_manager_and_s3_with_moto_of_the_pinned_version() -> None:
    pinned = re.search(r"^moto==(\S+)$", (ROOT / "requirements" / "dev.lock").read_text(), re.M)
    assert pinned
    # The same moto as `make dev` and `make test`: what passes there behaves so here
    assert COMPOSE["moto"]["image"] == f"motoserver/moto:{pinned.group(1)}"
    for variable in (
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_S3",
    ):
        assert urllib.parse.urlsplit(ENV_JSON[variable]).hostname == "moto", variable


def test_env_json_example_sets_only_variables_some_function_declares() -> None:
    declared = {name for fn in TEMPLATE.functions.values() for name in fn.environment}

    assert set(ENV_JSON) - declared == set()  # SAM would drop them without a word


@pytest.mark.parametrize(
    "secret",
    ["SECURITY_SECRET_KEY", "SECURITY_HASH_KEY", "REDIS_PASSWORD", "DATABASE_URI"],
)
def test_env_json_example_holds_no_secret(secret: str) -> None:
    # The secrets are moto's, read at run time as in AWS (issue 19); no function declares these
    assert secret not in ENV_JSON


@pytest.mark.parametrize("function", sorted(TEMPLATE.functions))
def test_env_json_example_names_every_resource_only_aws_could_give_a_function(
    function: str,
) -> None:
    fn = TEMPLATE.functions[function]
    # What is left out without an env.json: a key's, a queue's or the bucket's Ref or GetAtt
    resolved = function_environment(TEMPLATE, fn, {})
    only_aws = set(fn.environment) - set(resolved)

    assert only_aws - set(ENV_JSON) == set()


@pytest.mark.parametrize("variable", sorted(v for v in ENV_JSON if ENDPOINT.match(v)))
def test_env_json_example_endpoints_are_the_templates_own(variable: str) -> None:
    urls = {_local_url(value) for _, name, value in _endpoints() if name == variable}

    assert urls == {ENV_JSON[variable]}


def _elasticmq_queues() -> set[str]:
    conf = (ROOT / "docker" / "elasticmq.conf").read_text()
    block = conf[conf.index("\nqueues {") :]
    return set(re.findall(r"^  ([a-z0-9-]+) \{$", block, re.M))


@pytest.mark.parametrize("variable", ["AUDIT_QUEUE_URL", "WEBHOOKS_QUEUE_URL"])
def test_env_json_example_queues_are_created_by_the_compose_sqs(variable: str) -> None:
    url = urllib.parse.urlsplit(ENV_JSON[variable])

    assert f"{url.scheme}://{url.netloc}" == ENV_JSON["AWS_ENDPOINT_URL_SQS"]
    assert url.path.rsplit("/", 1)[-1] in _elasticmq_queues()
