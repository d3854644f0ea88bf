"""The API as deployed: the built artifacts, each function in the Lambda runtime (RIE +
awslambdaric), behind `make dev RUNTIME=lambda`'s gateway and worker (`devtools.serve`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.artifacts import HostBuild, build_for_host
from devtools.rie import free_port
from devtools.template import Template, load_template
from tests.servers import require_servers

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
    require_servers()
    port = free_port()
    logs = tmp_path_factory.mktemp("lambda-gateway")
    env = {**os.environ, "APP_HOST": "127.0.0.1", "APP_PORT": str(port)}
    with (logs / "gateway.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devtools.serve", "--runtime", "lambda", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=30).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(
                f"the gateway did not start:\n{(logs / 'gateway.log').read_text()[-3000:]}",
                pytrace=False,
            )
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
