"""`make bench`: figures, side by side with their floors (printed, never asserted).

Runs under `scripts/servers.py run --profile test`, against whatever servers the environment names.

1. Cold start of the users function: a fresh interpreter importing its handler, against a fresh
   interpreter importing only the third-party packages the handler needs (target: <= 1.25x).
2. Warm `GET /users/me` through the Lambda handler, against doing its work directly: JWT check,
   Redis session read, MongoDB lookup by id (target: p50 <= 2x).
3. Login latency at the configured bcrypt cost (SECURITY_BCRYPT_ROUNDS, 12 by default).
4. The audit pipeline: consumer throughput, publishing overhead, and how many records per second
   the digest function seals and the verifier (`verify-audit`) checks.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SECURITY_SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("DATABASE_NAME", "todo_bench")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TODO_LOCAL_GATEWAY", "1")
# FerretDB scans a 100,000-task collection for each list page; let it finish rather than time out.
os.environ.setdefault("DATABASE_SOCKET_TIMEOUT_MS", "600000")

from benchmarks.events import http_event, lambda_context, load_function  # noqa: E402
from benchmarks.measure import repeat_ms, row  # noqa: E402

FLOOR_IMPORTS = (
    "import fastapi, fastapi.security, mangum, pydantic, pydantic_settings, email_validator, "
    "pymongo, redis, jwt, bcrypt, jmespath; "
    "from aws_lambda_powertools import Logger; "
    "from aws_lambda_powertools.utilities.idempotency import idempotent_function; "
    "from aws_lambda_powertools.utilities.idempotency.persistence.redis import "
    "RedisCachePersistenceLayer"
)
# As in Lambda: the function's folder is on sys.path (/var/task), the layer too (/opt/python).
HANDLER_IMPORT = "import sys; sys.path.insert(0, 'functions/users'); import app; app.handler"


def _fresh_process_ms(code: str, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}"}
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def cold_start(runs: int = 15) -> None:
    print(f"\n# Cold start, users function ({runs} fresh interpreters each, alternating)")
    floor: list[float] = []
    handler: list[float] = []
    for _ in range(runs):
        floor += _fresh_process_ms(FLOOR_IMPORTS, 1)
        handler += _fresh_process_ms(HANDLER_IMPORT, 1)
    row("floor: import third-party packages", floor)
    row("users handler: import app.handler", handler, floor, 1.25)


def warm_me(runs: int = 500) -> None:
    from benchmarks.events import ensure_admin
    from todo_common import container
    from todo_common.clients import get_database, get_redis
    from todo_common.indexes import ensure_indexes
    from todo_common.repositories.base import object_id
    from todo_common.security.tokens import TokenType

    ensure_indexes(get_database())
    email, password = ensure_admin()
    handler = load_function("users")
    login = handler(
        http_event("POST", "/auth/login", body={"email": email, "password": password}),
        lambda_context(),
    )
    token = json.loads(login["body"])["access_token"]
    event = http_event("GET", "/users/me", headers={"authorization": f"Bearer {token}"})
    assert handler(event, lambda_context())["statusCode"] == 200

    tokens = container.token_service()
    redis_client = get_redis()
    users = get_database()["users"]

    def direct() -> object:
        claims = tokens.verify(token, TokenType.ACCESS)
        redis_client.hgetall(f"session:{claims.sid}")
        return users.find_one({"_id": object_id(claims.sub)})

    print(f"\n# Warm GET /users/me ({runs} calls each)")
    floor = repeat_ms(direct, runs)
    through = repeat_ms(lambda: handler(event, lambda_context()), runs)
    row("floor: JWT + Redis session + MongoDB by id", floor)
    row("users handler: GET /users/me", through, floor, 2.0)


def login_latency(runs: int = 10) -> None:
    from benchmarks.events import ensure_admin
    from todo_common.settings import get_settings

    rounds = get_settings().security.bcrypt_rounds
    email, password = ensure_admin()
    handler = load_function("users")
    event = http_event("POST", "/auth/login", body={"email": email, "password": password})
    print(f"\n# Login at bcrypt cost {rounds} ({runs} calls)")
    row(
        "users handler: POST /auth/login",
        repeat_ms(lambda: handler(event, lambda_context()), runs, warmup=1),
    )


def main() -> int:
    sys.path.insert(0, str(ROOT / "layers" / "common"))
    print(f"python {sys.version.split()[0]}, database {os.environ.get('DATABASE_URI', 'default')}")
    cold_start()
    warm_me()
    login_latency()
    from benchmarks import audit, tasks

    audit.consumer_throughput()
    audit.publish_overhead()
    audit.trail_verification()
    tasks.warm_get_task(runs=500)
    tasks.list_pages(runs=int(os.environ.get("BENCH_PAGE_RUNS", "3")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
