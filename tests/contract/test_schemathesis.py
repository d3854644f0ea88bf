"""Schemathesis against make dev's gateway, reading only the committed OpenAPI document.

Every check (`--checks all`) and every phase (examples, coverage, fuzzing, and the stateful
phase that follows the document's links), once as an ADMIN and once as a USER, with a bounded
number of examples per operation (`schemathesis.toml`). The run must find nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from devtools.openapi import OUTPUT
from tests.factories import DEFAULT_PASSWORD, make_project, make_task, make_user
from todo_common.principal import Role

pytestmark = [pytest.mark.e2e]

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
PHASES = "examples,coverage,fuzzing,stateful"
# The run authenticates with one session; logging it out would turn every later request into
# a 401. Logout is checked over HTTP in tests/e2e/test_auth_flow.py.
EXCLUDED = ["POST /auth/logout"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.USER])
def test_schemathesis_finds_nothing(
    gateway_url: str,
    db: Database[dict[str, Any]],
    login: Callable[[str, str], dict[str, Any]],
    tmp_path: Path,
    role: Role,
) -> None:
    """Given a signed-in caller of `role` and a project with a task, when schemathesis runs every
    check in every phase, then it reports no failure."""
    caller = make_user(db, role=role)
    owner = caller if role is not Role.USER else make_user(db, role=Role.MANAGER)
    make_task(db, make_project(db, owner), assignee=caller)
    token = login(caller.email, DEFAULT_PASSWORD)["access_token"]
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        str(OUTPUT),
        "--url",
        gateway_url,
        "--phases",
        PHASES,
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "1",
        "--seed",
        "1",
        "--no-color",
        *[arg for operation in EXCLUDED for arg in ("--exclude-name", operation)],
    ]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = tmp_path / "schemathesis.txt"
    report.write_text(result.stdout + result.stderr)
    summary = result.stdout[result.stdout.rfind("=== SUMMARY ===") :]
    print(f"schemathesis as {role.value} ({report}):\n{summary}")  # shown with `-s`
    assert result.returncode == 0, f"schemathesis failed; the whole report is {report}:\n" + (
        result.stdout[-30000:] + result.stderr[-3000:]
    )
