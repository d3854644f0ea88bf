"""API6:2023 Unrestricted Access to Sensitive Business Flows: racing and replaying requests.

Here rather than under API2/API3 because each attack is a legitimate request sent at the
wrong time or many times at once: two writers with one `If-Match`, a create retried with one
`Idempotency-Key` (or someone else's), and the last ADMINs removing each other. The business
rule must hold under the race, not only one request at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import assert_problem
from tests.security.conftest import Cast
from todo_common.principal import Role

RACERS = 6


def _all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_writers_racing_with_the_same_if_match_get_one_200_and_412s_and_one_change(
    gateway_url: str, client: httpx.Client, cast: Cast
) -> None:
    path = f"/projects/{cast.victim_project.id}"
    headers = {**cast.victim_manager.headers, "If-Match": '"1"'}

    def write(n: int) -> Callable[[], httpx.Response]:
        def call() -> httpx.Response:
            with httpx.Client(base_url=gateway_url, timeout=15) as own:
                return own.patch(path, json={"description": f"writer {n}"}, headers=headers)

        return call

    responses = _all_at_once([write(n) for n in range(RACERS)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (RACERS - 1), [r.text for r in responses]
    for loser in (r for r in responses if r.status_code == 412):
        assert_problem(loser, 412)
    winner = next(r for r in responses if r.status_code == 200)
    stored = client.get(path, headers=cast.admin.headers)
    assert stored.headers["etag"] == '"2"'
    assert stored.json()["description"] == winner.json()["description"]


def test_a_create_retried_at_once_with_one_idempotency_key_creates_one_project(
    gateway_url: str, client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    headers = {**cast.manager.headers, "Idempotency-Key": "race-1"}

    def create() -> httpx.Response:
        with httpx.Client(base_url=gateway_url, timeout=15) as own:
            return own.post("/projects", json={"name": "Once"}, headers=headers)

    responses = _all_at_once([create] * RACERS)

    assert db["projects"].count_documents({"name": "Once"}) == 1
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    stored = db["projects"].find_one({"name": "Once"})
    assert stored is not None
    assert {r.json()["id"] for r in created} == {str(stored["_id"])}
    for other in (r for r in responses if r.status_code != 201):
        assert_problem(other, 409)  # still in progress: retry shortly


def test_another_caller_reusing_an_idempotency_key_gets_their_own_result_not_the_first(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    key = {"Idempotency-Key": "shared-key"}
    first = client.post(
        "/projects", json={"name": "Secret plan"}, headers={**cast.manager.headers, **key}
    )
    assert first.status_code == 201, first.text

    second = client.post(
        "/projects", json={"name": "Secret plan"}, headers={**cast.victim_manager.headers, **key}
    )

    assert second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert second.json()["ownerId"] == cast.victim_manager.id


def test_a_replay_with_the_same_key_and_another_body_gets_422_and_creates_nothing(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    headers = {**cast.manager.headers, "Idempotency-Key": "k-1"}
    assert client.post("/projects", json={"name": "A"}, headers=headers).status_code == 201

    response = client.post("/projects", json={"name": "B"}, headers=headers)

    assert_problem(response, 422)
    assert db["projects"].count_documents({"name": "B"}) == 0


def test_the_last_admin_deleting_or_demoting_themselves_gets_409(
    client: httpx.Client, db: Database[dict[str, Any]], cast: Cast
) -> None:
    # The dev ADMIN the gateway created is another active ADMIN: deactivate it first.
    others = db["users"].find({"role": "ADMIN", "_id": {"$ne": ObjectId(cast.admin.id)}})
    for other in others:
        response = client.delete(f"/users/{other['_id']}", headers=cast.admin.headers)
        assert response.status_code == 204, response.text
    me = f"/users/{cast.admin.id}"

    calls: list[Callable[[], httpx.Response]] = [
        lambda: client.delete(me, headers=cast.admin.headers),
        lambda: client.patch(me, json={"role": "USER"}, headers=cast.admin.headers),
        lambda: client.patch(me, json={"isActive": False}, headers=cast.admin.headers),
    ]
    for call in calls:
        assert_problem(call(), 409)
    assert client.get("/users/me", headers=cast.admin.headers).json()["role"] == "ADMIN"


@pytest.mark.parametrize("round_", range(3))
def test_two_admins_removing_each_other_at_once_leave_one_admin(
    gateway_url: str,
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: Callable[..., Any],
    cast: Cast,
    round_: int,
) -> None:
    other, other_headers = user_with_token(Role.ADMIN)
    for doc in db["users"].find({"role": "ADMIN"}):
        if str(doc["_id"]) not in (cast.admin.id, other.id):
            client.delete(f"/users/{doc['_id']}", headers=cast.admin.headers)

    def remove(target: str, headers: dict[str, str]) -> Callable[[], httpx.Response]:
        def call() -> httpx.Response:
            with httpx.Client(base_url=gateway_url, timeout=15) as own:
                return own.delete(f"/users/{target}", headers=headers)

        return call

    responses = _all_at_once(
        [remove(other.id, cast.admin.headers), remove(cast.admin.id, other_headers)]
    )

    assert db["users"].count_documents({"role": "ADMIN", "isActive": True}) == 1, [
        r.text for r in responses
    ]
    assert sorted(r.status_code for r in responses)[0] == 204
