"""`APP_RELOAD=true make dev`: a code change restarts the gateway's process, which serves again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway import ROOT, serve_gateway

pytestmark = pytest.mark.e2e


def test_given_app_reload_when_a_source_file_changes_then_the_gateway_restarts_and_serves(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    log = tmp_path / "gateway.log"
    with serve_gateway(tmp_path_factory, env={"APP_RELOAD": "true"}, log_path=log) as url:
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200

        # When a file of the layer changes (its time is enough for the reloader)
        changed = ROOT / "layers" / "common" / "todo_common" / "__init__.py"
        stat = changed.stat()
        os.utime(changed, (stat.st_atime, stat.st_mtime + 1))
        try:
            deadline = time.monotonic() + 30
            while "Reloading" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            # Then the reloader said so, and the new process answers
            assert "Reloading" in log.read_text(), log.read_text()[-2000:]
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        finally:
            os.utime(changed, (stat.st_atime, stat.st_mtime))
