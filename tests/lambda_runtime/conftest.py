"""The API as deployed: the built artifacts, each function in the Lambda runtime (RIE +
awslambdaric), behind `make dev RUNTIME=lambda`'s gateway and worker (`devtools.serve`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.artifacts import HostBuild, build_for_host
from devtools.template import Template, load_template
from tests.gateway import serve_gateway

pytestmark = pytest.mark.lambda_runtime
ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 300  # a first run builds the artifacts (the layer's wheels and bytecode)


@pytest.fixture(scope="package")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="package")
def host_build(template: Template) -> HostBuild:
    return build_for_host(template)


# Package scope: the gateway and its worker stop when these tests end, so they do not consume
# the audit queue under other tests.
@pytest.fixture(scope="package")
def lambda_url(host_build: HostBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_gateway(
        tmp_path_factory,
        args=["--runtime", "lambda"],
        start_seconds=START_SECONDS,
        health_timeout=30,
    ) as url:
        yield url
