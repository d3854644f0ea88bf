"""Traces through the real X-Ray SDK (issue 13): a function in a traced Lambda environment sends
its subsegments to the X-Ray daemon's UDP address, here a stub socket in the test.

The function runs in a process of its own (`traced_invocation.py`): the X-Ray SDK decides at
import whether it is in Lambda, and Powertools Tracer keeps process-wide state, so the test
process itself stays untraced like every other test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import ROOT

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    """The X-Ray daemon's UDP port, as a socket the test reads."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def received(sock: socket.socket) -> list[dict[str, Any]]:
    """Every segment document sent so far (each datagram: a JSON header line, then the body)."""
    sock.setblocking(False)
    documents: list[dict[str, Any]] = []
    while True:
        try:
            datagram = sock.recv(65536)
        except BlockingIOError:
            return documents
        header, _, body = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))


def run_traced(daemon: socket.socket, *args: str, disabled: bool = False) -> dict[str, Any]:
    port = daemon.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "TODO_LOCAL_GATEWAY"}
    env |= {
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "users",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
        "_X_AMZN_TRACE_ID": f"Root={TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1",
        "POWERTOOLS_TRACE_DISABLED": "true" if disabled else "false",
        "LOG_LEVEL": "ERROR",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.traced_invocation", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_traced_login_sends_its_subsegments_to_the_xray_daemon(
    db: Db, clean: None, daemon: socket.socket
) -> None:
    user = make_user(db)

    result = run_traced(daemon, user.email, DEFAULT_PASSWORD, "xray-login-1")

    assert result == {"status": 200, "traced": True, "xray_sdk_loaded": True}
    segments = received(daemon)
    assert segments, "nothing reached the daemon"
    assert {s["trace_id"] for s in segments} == {TRACE_ID}
    by_name = {s["name"]: s for s in segments}
    handler = by_name["## api_handler"]
    assert handler["annotations"]["request_id"] == "xray-login-1"
    assert handler["annotations"]["ColdStart"] is True
    names = set(by_name)
    assert "MongoDB find" in names
    assert "Redis EVALSHA" in names
    assert "SQS SendMessage" in names
    assert by_name["MongoDB find"]["annotations"] == {"operation": "find", "collection": "users"}
    # values stay out: neither the email nor the password is anywhere in what was sent
    sent = json.dumps(segments)
    assert user.email not in sent
    assert DEFAULT_PASSWORD not in sent


def test_with_tracing_disabled_nothing_is_sent_and_the_xray_sdk_is_not_loaded(
    db: Db, clean: None, daemon: socket.socket
) -> None:
    user = make_user(db)

    result = run_traced(daemon, user.email, DEFAULT_PASSWORD, "xray-login-2", disabled=True)

    assert result == {"status": 200, "traced": False, "xray_sdk_loaded": False}
    assert received(daemon) == []
