"""End-to-end fixtures: the `make dev` gateway (`python -m devtools.serve`) as a real HTTP server.

It serves every route of `template.yaml` through the functions' Lambda handlers,
against the same local servers as the integration tests. The fixtures the tests use (`api`,
`client`, `db`, `user_with_token`, `audit_queue`…) are in `tests/gateway.py`, shared with the
security and fault tests; this package runs its own gateway.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.lambda_local import bearer
from tests.gateway import ROOT, serve_gateway

__all__ = ["ROOT", "bearer"]  # imported from here by the end-to-end tests


# Package scope: the gateway (and its queue worker) stops when the e2e tests end, so it does not
# consume the audit queue under the integration tests that run after them.
@pytest.fixture(scope="package")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_gateway(tmp_path_factory) as url:
        yield url
