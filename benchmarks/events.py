"""Helpers for the benchmarks: the functions' handlers, their events and a context, as the local
gateway and the tests run them (devtools.lambda_local), and the benchmarks' ADMIN."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from devtools.lambda_local import Handler, HttpRequest, LocalContext, handler_at

ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-password-123"


def lambda_context() -> LocalContext:
    return LocalContext("bench", timeout_seconds=10)


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The event of a request with a JSON `body`, on the route `template.yaml` gives it."""
    return HttpRequest.of(method, path, json=body, headers=headers, query=query).event()


def load_function(name: str) -> Handler:
    """`functions/<name>/`'s handler, with an event loop on this thread for Mangum."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    return handler_at(name)


def ensure_admin() -> tuple[str, str]:
    from todo_common.cli import create_admin
    from todo_common.clients import get_database

    if get_database()["users"].find_one({"email": ADMIN_EMAIL}) is None:
        create_admin(ADMIN_EMAIL, ADMIN_PASSWORD, "benchadmin", "Bench Admin", only_if_none=False)
    return ADMIN_EMAIL, ADMIN_PASSWORD
