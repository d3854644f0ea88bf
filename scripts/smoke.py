#!/usr/bin/env python3
"""Smoke test of a deployed stack (or of `make dev`): health, login, one create and read.

    SMOKE_EMAIL=... SMOKE_PASSWORD=... python scripts/smoke.py --base-url https://abc.execute-api.us-east-1.amazonaws.com/

Steps: `GET /health` until it answers 200 (a fresh deploy starts cold), `POST /auth/login`,
`POST /projects`, `GET /projects/{id}` (the same project comes back), then clean up:
`DELETE /projects/{id}` (a soft delete) and `POST /auth/logout`. The account must be a MANAGER
or an ADMIN. Credentials come from the environment only, and neither they nor the tokens are
ever printed. Standard library only, so it runs on any Python 3.11+ without installing anything.
Exit code 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

TIMEOUT_SECONDS = 30.0  # one request: above API Gateway's own limit for a cold start


class SmokeFailure(Exception):
    """A step did not get the answer it expects."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass
class Api:
    """A tiny JSON client for the API under test."""

    base_url: str
    token: str | None = None
    user_agent: str = "todo-api-smoke/1"
    opener: urllib.request.OpenerDirector = field(default_factory=urllib.request.build_opener)

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = urllib.parse.urljoin(self.base_url, path.lstrip("/"))
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (scheme checked in main)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", self.user_agent)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return Reply(response.status, _headers(response.headers), _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, _headers(error.headers), _json(error.read()))


def _headers(message: Message) -> dict[str, str]:
    """Header names in lower case (API Gateway may send them so)."""
    return {name.lower(): value for name, value in message.items()}


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:500]


def expect(reply: Reply, status: int, what: str) -> Any:
    if reply.status != status:
        raise SmokeFailure(f"{what}: expected {status}, got {reply.status}: {reply.body}")
    return reply.body


def step(name: str) -> float:
    print(f"smoke: {name} ...", end=" ", flush=True)
    return time.monotonic()


def done(started: float, note: str = "") -> None:
    took = (time.monotonic() - started) * 1000
    print(f"ok ({took:.0f} ms){f' {note}' if note else ''}", flush=True)


def wait_healthy(api: Api, deadline_seconds: float) -> None:
    started = step("GET /health")
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            reply = api.call("GET", "/health")
        except OSError as error:  # DNS or TLS not ready yet right after a first deploy
            reply = Reply(0, {}, str(error))
        if reply.status == 200:
            done(started)
            return
        if time.monotonic() > deadline:
            raise SmokeFailure(f"/health did not answer 200 in time: {reply.status} {reply.body}")
        time.sleep(3)


def run(api: Api, email: str, password: str, health_wait: float) -> None:
    wait_healthy(api, health_wait)

    started = step("POST /auth/login")
    tokens = expect(
        api.call("POST", "/auth/login", {"email": email, "password": password}), 200, "login"
    )
    api.token = str(tokens["access_token"])
    done(started)

    name = f"smoke {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {uuid.uuid4().hex[:8]}"
    started = step("POST /projects")
    created = expect(
        api.call(
            "POST",
            "/projects",
            {"name": name, "description": "Created by scripts/smoke.py after a deploy."},
            {"Idempotency-Key": str(uuid.uuid4())},
        ),
        201,
        "create a project",
    )
    project_id = str(created["id"])
    done(started, project_id)

    started = step(f"GET /projects/{project_id}")
    reply = api.call("GET", f"/projects/{project_id}")
    problem: SmokeFailure | None = None
    try:
        read = expect(reply, 200, "read the project back")
        if read.get("id") != project_id or read.get("name") != name:
            raise SmokeFailure(f"read back a different project: {read}")
        done(started)
    except SmokeFailure as failure:
        problem = failure  # still clean up, then report it
        print("failed", flush=True)

    started = step(f"DELETE /projects/{project_id}")
    if_match = {"If-Match": reply.headers["etag"]} if "etag" in reply.headers else {}
    expect(api.call("DELETE", f"/projects/{project_id}", headers=if_match), 204, "clean up")
    done(started)
    started = step("POST /auth/logout")
    logout = api.call("POST", "/auth/logout")
    if logout.status >= 300:
        raise SmokeFailure(f"logout: {logout.status}: {logout.body}")
    done(started)
    if problem is not None:
        raise problem


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base-url",
        default=os.environ.get("SMOKE_BASE_URL"),
        help="the API's base URL (the stack output ApiUrl); default $SMOKE_BASE_URL",
    )
    parser.add_argument(
        "--health-wait",
        type=float,
        default=120.0,
        help="seconds to wait for /health to answer 200 (default 120)",
    )
    args = parser.parse_args(argv)
    email = os.environ.get("SMOKE_EMAIL", "")
    password = os.environ.get("SMOKE_PASSWORD", "")
    base_url = args.base_url or ""
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        parser.error("--base-url (or SMOKE_BASE_URL) must be an http(s) URL")
    if not email or not password:
        parser.error("SMOKE_EMAIL and SMOKE_PASSWORD must be set in the environment")
    api = Api(base_url if base_url.endswith("/") else base_url + "/")
    try:
        run(api, email, password, args.health_wait)
    except (SmokeFailure, OSError, KeyError, TypeError) as failure:
        print(f"FAILED\nsmoke: {type(failure).__name__}: {failure}", file=sys.stderr, flush=True)
        return 1
    print(f"smoke: {api.base_url} passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
