"""Concurrent requests against the user rules (SPEC §3, §5): what one request checks must still
hold when another request races it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.e2e.conftest import bearer
from tests.factories import make_user
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
Login = Callable[..., dict[str, Any]]


def _concurrently(
    gateway_url: str, requests: list[tuple[str, str, Any, dict[str, str]]]
) -> list[int]:
    """Send the requests at the same moment, each on its own connection; return the statuses."""
    barrier = threading.Barrier(len(requests))

    def send(method: str, path: str, body: Any, headers: dict[str, str]) -> int:
        with httpx.Client(base_url=gateway_url, timeout=15) as own:
            barrier.wait()
            return own.request(method, path, json=body, headers=headers).status_code

    with ThreadPoolExecutor(len(requests)) as pool:
        futures = [pool.submit(send, *request) for request in requests]
        return [future.result() for future in futures]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("DELETE", "/users/{id}", None), ("PATCH", "/users/{id}", {"role": "MANAGER"})],
    ids=["delete", "demote"],
)
def test_given_two_admins_when_each_removes_the_other_at_once_then_one_admin_remains(
    gateway_url: str,
    db: Database[dict[str, Any]],
    login: Login,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """The last-ADMIN rule holds under concurrency too (SPEC §5): never zero active ADMINs."""
    for _ in range(5):  # a lost race shows in almost every round; five make it certain
        db["users"].delete_many({})
        first, second = make_user(db, role=Role.ADMIN), make_user(db, role=Role.ADMIN)
        first_headers = bearer(login(first.email)["access_token"])
        second_headers = bearer(login(second.email)["access_token"])

        statuses = _concurrently(
            gateway_url,
            [
                (method, path.format(id=second.id), body, first_headers),
                (method, path.format(id=first.id), body, second_headers),
            ],
        )

        active_admins = db["users"].count_documents({"role": "ADMIN", "isActive": True})
        assert active_admins == 1, f"{active_admins} active ADMINs left; statuses {statuses}"
        # The loser is refused: 409 by the rule, or 401 if the winner already ended its session.
        winners = [status for status in statuses if status in (200, 204)]
        assert len(winners) == 1, statuses
        assert {*statuses} - {*winners} <= {401, 409}, statuses


def test_given_one_email_when_created_by_concurrent_requests_then_exactly_one_201(
    gateway_url: str, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """Uniqueness is the database's job (SPEC §3): racing creates get 409, not duplicates."""
    _, admin = user_with_token(Role.ADMIN)
    bodies = [
        {
            "username": f"racer{n}",
            "email": "same@example.com",
            "fullName": f"Racer {n}",
            "password": "a-good-password",
        }
        for n in range(6)
    ]

    statuses = _concurrently(gateway_url, [("POST", "/users", b, admin) for b in bodies])

    assert sorted(statuses) == [201] + [409] * 5, statuses
    assert db["users"].count_documents({"email": "same@example.com"}) == 1
