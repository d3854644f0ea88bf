"""Contract tests: the API against its own OpenAPI document, over HTTP through `make dev`'s gateway.

This package runs its own gateway (package scope, as `tests/e2e/` does); the fixtures the tests
use (`api`, `db`, `login`…) are in `tests/gateway.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway import serve_gateway


@pytest.fixture(scope="package")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_gateway(tmp_path_factory) as url:
        yield url
