"""A webhook receiver for the tests: a small threaded HTTP server on 127.0.0.1 that records what
it receives and answers with the statuses a test scripts (200 once the script is used up).

And `loopback_only`: a guard that fails the test if anything tries to connect a socket to an
address outside 127.0.0.0/8 and ::1 (the network rule of issue 20's tests).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


@dataclass
class Script:
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay_seconds: float = 0.0
    # Announce more than `body` and hold the connection this long after sending it: a client
    # that reads the whole announced answer waits, one that stops at its limit does not.
    announced_length: int | None = None
    hold_seconds: float = 0.0


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script = Script()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.monotonic())
                    )
                    script = receiver.script
                    status = script.statuses.pop(0) if script.statuses else 200
                time.sleep(script.delay_seconds)
                self.send_response(status)
                for name, value in script.headers.items():
                    self.send_header(name, value)
                length = script.announced_length or len(script.body)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(script.body)
                self.wfile.flush()
                time.sleep(script.hold_seconds)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, *statuses: int, **script: Any) -> None:
        with self._lock:
            self.script = Script(list(statuses), **script)

    def wait_for(self, count: int, timeout: float = 20.0, *, poll: Any = None) -> list[Received]:
        """The first `count` requests, waiting (calling `poll()` in between) until they came."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} requests received")
            if poll is not None:
                poll()
            time.sleep(0.05)
        return self.received[:count]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return False  # a Unix socket path is bytes or str without an address: not ours to judge
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a name: resolving it would be traffic already


@dataclass
class ConnectGuard:
    refused: list[Any] = field(default_factory=list)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> ConnectGuard:
    """Every socket connect outside loopback raises and is recorded: the test fails if the code
    under test ever tries one (assert `guard.refused == []`)."""
    guard = ConnectGuard()
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex

    def checked(address: Any) -> None:
        if not is_loopback(address):
            guard.refused.append(address)
            raise AssertionError(f"a connection to {address!r} was attempted")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            checked(address)
        connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            checked(address)
        return connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    return guard
