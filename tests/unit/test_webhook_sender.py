"""SSRF (issue 20): a webhook attempt resolves its host, checks every address, and refuses a
private, loopback, link-local, CGNAT, multicast or metadata one before any connection; it
connects to the address it checked, follows no redirect and reads a bounded answer.

The only traffic here goes to a receiver on 127.0.0.1 that the test starts; `loopback_only`
fails any test that tries a connection elsewhere, and the names that resolve to private addresses
resolve through a stub, never DNS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from tests.webhook_receiver import ConnectGuard, Receiver, loopback_only, running_receiver
from todo_common.webhooks.addresses import (
    IpAddress,
    NoLookupResolver,
    SystemResolver,
    refusal,
    url_problem,
)
from todo_common.webhooks.sender import WebhookSender

__all__ = ["loopback_only"]  # the fixture, used by name


class StubResolver:
    """Answers from a table, like a DNS server the attacker controls; records what was asked."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def resolve(self, host: str, port: int) -> list[IpAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.table[host]]


def sender(resolver: object = None, *, allow_loopback: bool = True) -> WebhookSender:
    return WebhookSender(
        resolver or SystemResolver(),  # type: ignore[arg-type]
        allow_loopback=allow_loopback,
        timeout_seconds=1.0,
        max_response_bytes=65536,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://10.0.0.1/hook", "private"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://192.168.1.1/", "private"),
        ("http://[fe80::1]/", "link-local"),
    ],
)
def test_given_a_url_with_a_forbidden_address_when_attempted_then_refused_before_connecting(
    loopback_only: ConnectGuard, url: str, why: str
) -> None:
    attempt = sender(allow_loopback=True).post(url, {}, b"{}")

    assert attempt.status_code is None
    assert attempt.error is not None
    assert "refused before connecting" in attempt.error
    assert why in attempt.error
    assert loopback_only.refused == []  # nothing even tried


def test_given_localhost_without_the_local_setting_then_it_is_refused(
    loopback_only: ConnectGuard, receiver: Receiver
) -> None:
    url = f"http://localhost:{receiver.port}/hooks"

    attempt = sender(allow_loopback=False).post(url, {}, b"{}")

    assert attempt.error is not None
    assert "loopback" in attempt.error
    assert receiver.received == []
    assert url_problem(url, allow_http=True, allow_loopback=False) == "localhost is a loopback name"


def test_given_a_name_resolving_to_a_private_address_then_refused_without_a_connection(
    loopback_only: ConnectGuard,
) -> None:
    resolver = StubResolver({"hooks.example.com": ["10.1.2.3"]})

    attempt = sender(resolver).post("https://hooks.example.com/in", {}, b"{}")

    assert resolver.asked == ["hooks.example.com"]
    assert attempt.error == "refused before connecting: 10.1.2.3 is a private address"
    assert loopback_only.refused == []


def test_given_a_name_with_a_public_and_a_private_address_then_refused(
    loopback_only: ConnectGuard,
) -> None:
    resolver = StubResolver({"mixed.example.com": ["93.184.215.14", "169.254.169.254"]})

    attempt = sender(resolver).post("https://mixed.example.com/", {}, b"{}")

    assert attempt.error is not None
    assert "cloud metadata" in attempt.error
    assert loopback_only.refused == []


def test_given_a_redirect_to_a_private_address_then_it_is_not_followed(
    loopback_only: ConnectGuard, receiver: Receiver
) -> None:
    receiver.answer(302, headers={"Location": "http://10.0.0.1/steal"})

    attempt = sender().post(receiver.url, {"webhook-id": "msg_1"}, b"{}")

    assert attempt.status_code == 302
    assert not attempt.delivered
    assert attempt.error == "redirect to http://10.0.0.1/steal not followed"
    assert len(receiver.received) == 1
    assert loopback_only.refused == []


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    loopback_only: ConnectGuard, receiver: Receiver
) -> None:
    # The name resolves (stub) to the loopback receiver: the request reaches it, as the name.
    resolver = StubResolver({"receiver.test": ["127.0.0.1"]})

    attempt = sender(resolver).post(
        f"http://receiver.test:{receiver.port}/in?x=1", {"webhook-id": "msg_2"}, b'{"a":1}'
    )

    assert attempt.delivered
    (request,) = receiver.received
    assert request.headers["Host"] == f"receiver.test:{receiver.port}"
    assert request.path == "/in?x=1"
    assert request.body == b'{"a":1}'
    assert request.headers["webhook-id"] == "msg_2"


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    loopback_only: ConnectGuard, receiver: Receiver
) -> None:
    receiver.answer(200, delay_seconds=1.5)

    attempt = sender().post(receiver.url, {}, b"{}")

    assert attempt.status_code is None
    assert attempt.error is not None
    assert "timed out" in attempt.error or "no answer" in attempt.error


def test_an_answer_is_read_only_up_to_the_limit(
    loopback_only: ConnectGuard, receiver: Receiver
) -> None:
    # Given a receiver announcing 4 MiB, sending 64 kB of it, then holding the connection
    receiver.answer(200, body=b"x" * 65536, announced_length=4 * 1024 * 1024, hold_seconds=3)
    limited = WebhookSender(
        SystemResolver(), allow_loopback=True, timeout_seconds=2.0, max_response_bytes=65536
    )

    # When an attempt is made
    attempt = limited.post(receiver.url, {}, b"{}")

    # Then it stops at 64 kB: delivered, without waiting for the rest (which would time out)
    assert attempt.delivered
    assert attempt.duration_ms < 1500


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/", "must be an absolute https URL"),
        ("ftp://hooks.example.com/", "must be an absolute https URL"),
        ("/relative/path", "must be an absolute https URL"),
        ("https://user:pass@hooks.example.com/", "must not carry credentials"),
        ("https://token@hooks.example.com/", "must not carry credentials"),
        ("https://hooks.example.com/#frag", "must not have a fragment"),
        ("https://10.0.0.1/", "10.0.0.1 is a private address"),
        ("https://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://hooks.example.com/in?x=1", None),
    ],
)
def test_subscription_urls_must_be_absolute_https_without_credentials(
    url: str, problem: str | None
) -> None:
    assert url_problem(url, allow_http=False, allow_loopback=False) == problem


def test_the_local_settings_allow_http_and_loopback_and_nothing_else() -> None:
    assert url_problem("http://127.0.0.1:9/", allow_http=True, allow_loopback=True) is None
    assert url_problem("http://10.0.0.1/", allow_http=True, allow_loopback=True) is not None
    metadata = ipaddress.ip_address("169.254.169.254")
    assert refusal(metadata, allow_loopback=True) == "169.254.169.254 is a cloud metadata address"
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert refusal(ipaddress.ip_address("93.184.215.14"), allow_loopback=False) is None


def test_given_loopback_only_then_a_public_address_is_refused_and_no_name_is_looked_up(
    loopback_only: ConnectGuard, receiver: Receiver
) -> None:
    # The tests' and benchmarks' mode: a fuzzer's URL can never cause traffic off this machine.
    strict = WebhookSender(
        NoLookupResolver(),
        allow_loopback=False,
        timeout_seconds=1.0,
        max_response_bytes=1024,
        loopback_only=True,
    )

    public = strict.post("https://93.184.215.14/", {}, b"{}")
    named = strict.post("https://hooks.example.com/", {}, b"{}")
    local = strict.post(f"http://localhost:{receiver.port}/hooks", {}, b"{}")

    assert public.error is not None
    assert "not a loopback address" in public.error
    assert named.error is not None
    assert "is not resolved here" in named.error
    assert local.delivered
    assert loopback_only.refused == []
