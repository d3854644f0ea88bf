"""Fault fixtures: the local servers' processes, stopped (SIGSTOP) and resumed (SIGCONT) mid-run.

`scripts/servers.py run` (behind `make test`) puts the process id of each server it started in
LOCAL_MONGO_PID, LOCAL_REDIS_PID and LOCAL_SQS_PID. A stopped process keeps its listening socket:
connections are accepted by the kernel and requests are written, but nothing answers, as with a
server that hangs or a network that drops packets. Whatever happens in a test, every server is
resumed before the next one starts.

This package runs a gateway of its own, with the outbox relay every second.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.gateway import serve_gateway

RELAY_EVERY_SECONDS = "1"


@dataclass(frozen=True)
class LocalServer:
    """One local server process that a test may freeze."""

    name: str
    pid: int

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop the process for the block; resume it however the block ends."""
        os.kill(self.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            self.resume()

    def resume(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)


def _local_server(name: str, variable: str) -> LocalServer:
    pid = os.environ.get(variable, "")
    if not pid.isdigit():
        pytest.fail(
            f"{variable} is not set: the fault tests stop the {name} server that "
            "`scripts/servers.py run` started (run them with `make test`), not one it reuses",
            pytrace=False,
        )
    return LocalServer(name, int(pid))


@pytest.fixture(scope="package")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_gateway(tmp_path_factory, {"LOCAL_SCHEDULE_SECONDS": RELAY_EVERY_SECONDS}) as url:
        yield url


@pytest.fixture
def mongo_server() -> Iterator[LocalServer]:
    server = _local_server("MongoDB", "LOCAL_MONGO_PID")
    yield server
    server.resume()  # never leave it stopped for the tests that follow


@pytest.fixture
def redis_server() -> Iterator[LocalServer]:
    server = _local_server("Redis", "LOCAL_REDIS_PID")
    yield server
    server.resume()


@pytest.fixture
def sqs_server() -> Iterator[LocalServer]:
    server = _local_server("SQS", "LOCAL_SQS_PID")
    yield server
    server.resume()
