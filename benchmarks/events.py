"""Helpers for the benchmarks: SAM-shaped HTTP API events, a Lambda context, function loading."""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import sys
import uuid
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "events" / "http-api-proxy.json"
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-password-123"


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def lambda_context() -> Context:
    return Context()


@cache
def _template() -> dict[str, Any]:
    if FIXTURE.exists():
        data: dict[str, Any] = json.loads(FIXTURE.read_text())
        return data
    return {"version": "2.0", "requestContext": {"http": {}}, "headers": {}}


def http_event(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    event = copy.deepcopy(_template())
    event.update(
        {
            "routeKey": f"{method} {path}",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json", **(headers or {})},
            "isBase64Encoded": False,
        }
    )
    event.pop("queryStringParameters", None)
    event.pop("pathParameters", None)
    event.pop("cookies", None)
    event["requestContext"]["http"].update(
        {"method": method, "path": path, "sourceIp": "127.0.0.1"}
    )
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    event["requestContext"].pop("authorizer", None)
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = json.dumps(body)
    return event


@cache
def load_function(name: str) -> Any:
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.handler


def ensure_admin() -> tuple[str, str]:
    from todo_common.cli import create_admin
    from todo_common.clients import get_database

    if get_database()["users"].find_one({"email": ADMIN_EMAIL}) is None:
        create_admin(ADMIN_EMAIL, ADMIN_PASSWORD, "benchadmin", "Bench Admin", only_if_none=False)
    return ADMIN_EMAIL, ADMIN_PASSWORD
