"""Where a webhook may be sent: absolute https URLs without credentials, to public addresses.

The address is checked at every attempt, after resolving the name (an attacker's DNS may answer
differently than at subscription), and the connection goes to the address that was checked.
Refused, whatever the URL: private, loopback, link-local, carrier-grade NAT (100.64/10),
multicast, unspecified, reserved and other non-global ranges, the cloud metadata addresses, and
IPv4-mapped IPv6 forms of any of them. `WEBHOOKS_ALLOW_LOOPBACK` lets loopback receivers through
(`make dev`, the tests); `WEBHOOKS_ALLOW_HTTP` plain http; `WEBHOOKS_LOOPBACK_ONLY` (the tests,
the benchmarks) refuses everything else and resolves no name through DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
LOCAL_NAMES = ("localhost", ".localhost")


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[IpAddress]:
        """Every address `host` resolves to (raises OSError when it does not resolve)."""
        ...


class SystemResolver:
    def resolve(self, host: str, port: int) -> list[IpAddress]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class NoLookupResolver:
    """Resolves address literals and `localhost` only, without asking any DNS server: the tests'
    and benchmarks' resolver (`WEBHOOKS_LOOPBACK_ONLY`), so no URL a test or a fuzzer makes up
    can cause traffic beyond this machine."""

    def resolve(self, host: str, port: int) -> list[IpAddress]:
        if host.lower() == LOCAL_NAMES[0]:
            return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            raise OSError(f"{host} is not resolved here (WEBHOOKS_LOOPBACK_ONLY)") from None


def refusal(address: IpAddress, *, allow_loopback: bool) -> str | None:
    """Why `address` may not receive webhooks, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return f"{address} is a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback else f"{address} is a loopback address"
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in CARRIER_GRADE_NAT, "CGNAT"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "non-public"),
    )
    for refused, kind in checks:
        if refused:
            return f"{address} is a {kind} address"
    return None


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart: where to connect and what to ask for."""

    scheme: str
    host: str  # the name (or literal address) the URL gives: the Host header and TLS SNI
    port: int
    path: str  # path and query


def url_problem(url: str, *, allow_http: bool, allow_loopback: bool) -> str | None:
    """Why `url` cannot be a webhook's address, or None (checked at subscription; the address
    it resolves to is checked again at every attempt)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return "not a valid URL"
    problem = _form_problem(parts, allow_http=allow_http)
    if problem is not None or parts.hostname is None:
        return problem or "must name a host"
    host = parts.hostname.lower()
    if not allow_loopback and (host == LOCAL_NAMES[0] or host.endswith(LOCAL_NAMES[1])):
        return f"{host} is a loopback name"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: its addresses are checked when it is resolved, at every attempt
    return refusal(literal, allow_loopback=allow_loopback)


def _form_problem(parts: SplitResult, *, allow_http: bool) -> str | None:
    schemes = ("https", "http") if allow_http else ("https",)
    problems = (
        (parts.scheme not in schemes, "must be an absolute https URL"),
        (not parts.hostname, "must name a host"),
        (parts.username is not None or parts.password is not None, "must not carry credentials"),
        (bool(parts.fragment), "must not have a fragment"),
    )
    return next((problem for failed, problem in problems if failed), None)


def target_of(url: str) -> Target:
    parts: SplitResult = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname or "", parts.port or default, path)
