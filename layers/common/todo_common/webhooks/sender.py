"""One attempt to deliver a webhook: resolve, check the address, connect to it, post, read a
bounded answer. Redirects are not followed; the whole attempt has one timeout."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from todo_common.webhooks.addresses import IpAddress, Resolver, Target, refusal, target_of

ERROR_CHARS = 300


@dataclass(frozen=True)
class Attempt:
    status_code: int | None  # None: no answer (refused, unreachable, timed out)
    duration_ms: int
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHttp(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the name resolves to now."""

    def __init__(self, target: Target, address: IpAddress, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(
        self, target: Target, address: IpAddress, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = str(address)
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The name, not the address, for SNI and the certificate check.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _loopback(address: IpAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


class WebhookSender:
    def __init__(
        self,
        resolver: Resolver,
        *,
        allow_loopback: bool,
        timeout_seconds: float,
        max_response_bytes: int,
        loopback_only: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._resolver = resolver
        self._allow_loopback = allow_loopback or loopback_only
        self._loopback_only = loopback_only
        self._timeout = timeout_seconds
        self._max_bytes = max_response_bytes
        self._tls = tls or ssl.create_default_context()

    def post(self, url: str, headers: dict[str, str], body: bytes) -> Attempt:
        started = time.monotonic()
        target = target_of(url)
        try:
            addresses = self._resolver.resolve(target.host, target.port)
        except OSError as exc:
            return self._failed(started, f"{target.host} does not resolve: {exc}")
        if not addresses:
            return self._failed(started, f"{target.host} does not resolve")
        # Every address the name has must be allowed: no choosing the private one among them.
        for address in addresses:
            why = refusal(address, allow_loopback=self._allow_loopback)
            if why is None and self._loopback_only and not _loopback(address):
                why = f"{address} is not a loopback address (WEBHOOKS_LOOPBACK_ONLY)"
            if why is not None:
                return self._failed(started, f"refused before connecting: {why}")
        return self._exchange(target, addresses[0], headers, body, started)

    def _exchange(
        self,
        target: Target,
        address: IpAddress,
        headers: dict[str, str],
        body: bytes,
        started: float,
    ) -> Attempt:
        connection: http.client.HTTPConnection = (
            _PinnedHttps(target, address, self._timeout, self._tls)
            if target.scheme == "https"
            else _PinnedHttp(target, address, self._timeout)
        )
        try:
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    "User-Agent": "todo-api-webhooks/1",
                },
            )
            response = connection.getresponse()
            response.read(self._max_bytes)  # at most this much of an answer is read
            status = response.status
            location = response.getheader("Location")
        except (OSError, http.client.HTTPException) as exc:
            return self._failed(started, f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        elapsed = self._elapsed(started)
        if elapsed > self._timeout * 1000:
            return Attempt(None, elapsed, f"no answer within {self._timeout:g} s")
        error = None
        if 300 <= status < 400:
            error = f"redirect to {location!s:.200} not followed"
        elif not 200 <= status < 300:
            error = f"answered {status}"
        return Attempt(status, elapsed, error)

    def _failed(self, started: float, error: str) -> Attempt:
        return Attempt(None, self._elapsed(started), error[:ERROR_CHARS])

    @staticmethod
    def _elapsed(started: float) -> int:
        return round((time.monotonic() - started) * 1000)
