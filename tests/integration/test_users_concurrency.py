"""Uniqueness under concurrent requests: the database, not a read-then-write check, decides."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import HttpRequest
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import LambdaResponse, UsersApi
from todo_common.principal import Role

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
CLIENTS = 20


def create_at_once(api: UsersApi, token: str, bodies: list[dict[str, str]]) -> list[LambdaResponse]:
    """`POST /users` with each body, every one in its own thread, all released at once."""
    requests = [HttpRequest.of("POST", "/users", token=token, json=body) for body in bodies]
    start = threading.Barrier(len(requests))

    def send(n: int) -> LambdaResponse:
        # Each thread is a Lambda invocation with an event loop of its own (Mangum needs one).
        start.wait()
        return api.invoke_in_this_thread(requests[n])

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, range(len(requests))))


def racer(n: int, *, username: str, email: str) -> dict[str, str]:
    return {
        "username": username,
        "email": email,
        "fullName": f"Racer {n}",
        "password": "a-strong-pass-1",
    }


def test_twenty_concurrent_creates_with_one_email_make_one_user(db: Db, clean: None) -> None:
    # Given a logged-in ADMIN and twenty requests for the same email, each with its own username
    api = UsersApi()
    admin = make_user(db, role=Role.ADMIN)
    token = api.token_for(admin.email, DEFAULT_PASSWORD)
    bodies = [
        racer(n, username=f"racer-{n:02d}", email="Contested@Example.com") for n in range(CLIENTS)
    ]

    # When the twenty invocations of the users function run at once
    responses = create_at_once(api, token, bodies)

    # Then exactly one is created and nineteen are told the email is taken
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [409] * (CLIENTS - 1), [(r.status, r.body) for r in responses]
    for response in responses:
        if response.status == 409:
            assert response.problem()["title"] == "Conflict"
    # and MongoDB holds one user with that email: the one the 201 described
    winner = next(r for r in responses if r.status == 201).json()
    stored = list(db.users.find({"email": "contested@example.com"}))
    assert [str(doc["_id"]) for doc in stored] == [winner["id"]]
    assert stored[0]["username"] == winner["username"]
    assert db.users.count_documents({}) == 2  # the ADMIN and the winner


def test_twenty_concurrent_creates_with_one_username_in_any_case_make_one_user(
    db: Db, clean: None
) -> None:
    # Given twenty requests for one username in different cases, each with its own email
    api = UsersApi()
    admin = make_user(db, role=Role.ADMIN)
    token = api.token_for(admin.email, DEFAULT_PASSWORD)
    spellings = ["samename", "SameName", "SAMENAME", "sameNAME"]
    bodies = [
        racer(n, username=spellings[n % len(spellings)], email=f"racer{n}@example.com")
        for n in range(CLIENTS)
    ]

    # When they run at once
    responses = create_at_once(api, token, bodies)

    # Then one wins and the rest are conflicts; one such user exists
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [409] * (CLIENTS - 1), [(r.status, r.body) for r in responses]
    assert db.users.count_documents({"usernameKey": "samename"}) == 1
