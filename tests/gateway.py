"""Fixtures for tests over HTTP through `make dev`'s gateway (`python -m devtools.serve`), as a
pytest plugin (`tests/conftest.py` loads it) shared by `tests/e2e/`, `tests/security/` and
`tests/faults/`.

Each of those packages defines its own package-scoped `gateway_url` with `serve_gateway()`: the
gateway (and its queue worker) stops when the package's tests end, so it does not consume the
audit queue under the tests that run after them, and a package that stops the local servers
(the fault tests) has a gateway of its own. Every other fixture here asks for `gateway_url`, so
it uses the gateway of the package that requests it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
import redis
from pymongo.database import Database

from devtools.lambda_local import bearer
from tests.e2e.support import wait_until_queue_drains
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.servers import emptied_database, emptied_redis, require_servers
from todo_common.principal import Role
from todo_common.records import User

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    *,
    args: Sequence[str] = (),
    start_seconds: float = 60,
    health_timeout: float = 1,
) -> Iterator[str]:
    """Run the gateway on a free port until the block ends; yields its base URL.

    `env` adds variables to the gateway's environment (e.g. a shorter relay schedule); its
    output goes to `log_path` (a new temporary file by default); `args` go to `devtools.serve`
    (`--runtime lambda`: the functions in the Lambda runtime, `tests/lambda_runtime/`).
    """
    require_servers()
    port = _free_port()
    environment = {**os.environ, **(env or {}), "APP_PORT": str(port), "APP_HOST": "127.0.0.1"}
    log_path = log_path or tmp_path_factory.mktemp("gateway") / "gateway.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devtools.serve", *args, "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_seconds
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=health_timeout).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(
                f"the gateway did not start; see {log_path}:\n{log_path.read_text()[-3000:]}",
                pytrace=False,
            )
        time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def db(gateway_url: str) -> Database[dict[str, Any]]:
    """The database the gateway uses, emptied before each test."""
    return emptied_database()


@pytest.fixture
def redis_client(gateway_url: str) -> redis.Redis:
    return emptied_redis()


@pytest.fixture
def api(
    gateway_url: str, db: Database[dict[str, Any]], redis_client: redis.Redis
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=15) as client:
        yield client


@pytest.fixture
def login(api: httpx.Client) -> Callable[[str, str], dict[str, Any]]:
    """Log in over HTTP and return the token response body."""

    def _login(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        response = api.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return _login


@pytest.fixture
def user_with_token(
    db: Database[dict[str, Any]], login: Callable[[str, str], dict[str, Any]]
) -> Callable[..., tuple[User, dict[str, str]]]:
    """Create a user of a role and return it with the headers of a logged-in session."""

    def _make(role: Role = Role.USER, **kwargs: Any) -> tuple[User, dict[str, str]]:
        user = make_user(db, role=role, **kwargs)
        tokens = login(user.email, kwargs.get("password", DEFAULT_PASSWORD))
        return user, bearer(tokens["access_token"])

    return _make


@pytest.fixture
def client(api: httpx.Client) -> httpx.Client:
    """`api`, sending a fresh `X-Request-Id` with every request (errors must echo it)."""

    def tag(request: httpx.Request) -> None:
        request.headers.setdefault("X-Request-Id", f"e2e-{os.urandom(8).hex()}")

    api.event_hooks["request"].append(tag)
    return api


@pytest.fixture
def audit_queue(db: Database[dict[str, Any]]) -> tuple[SQSClient, str]:
    """The audit queue with nothing of an earlier test in it or in flight, and no audit records:
    the trail a test reads holds its own events only. Returns the SQS client and the queue URL.

    The worker is given a moment to finish what it holds (it records a message before deleting
    it, so an empty queue means nothing is in flight); what it cannot finish, a poison message
    for instance, is purged. SQS allows one purge a minute per queue: a second one within the
    minute is skipped, as a message the worker keeps failing writes no record anyway.
    """
    sqs: SQSClient = boto3.client("sqs")
    queue_url = os.environ["AUDIT_QUEUE_URL"]
    if not wait_until_queue_drains(sqs, queue_url, deadline_seconds=5):
        with contextlib.suppress(sqs.exceptions.PurgeQueueInProgress):
            sqs.purge_queue(QueueUrl=queue_url)
    for name in ("audits", "audit_outbox"):
        db[name].delete_many({})
    return sqs, queue_url
