"""The tasks function under concurrent requests: If-Match and Idempotency-Key hold in a race.

Each request is a real invocation of the tasks function's Lambda handler on its own thread (and
event loop), released together by a barrier.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from devtools.lambda_local import HttpRequest
from tests.factories import DEFAULT_PASSWORD, make_project, make_task, make_user
from tests.integration.lambda_events import FunctionApi, LambdaResponse
from todo_common import container
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
# A lost update shows up in most rounds when version checks are not atomic; one round could be
# lucky, ten in a row are not.
ROUNDS = 10
CLIENTS = 8


@pytest.fixture
def api(clean: None) -> FunctionApi:
    return FunctionApi("tasks")


def token_of(user: User) -> str:
    return container.auth_service().login(user.email, DEFAULT_PASSWORD, "127.0.0.1").access_token


def all_at_once(api: FunctionApi, requests: list[HttpRequest]) -> list[LambdaResponse]:
    """Invoke the handler with every request at the same instant, one thread each."""
    start = threading.Barrier(len(requests))

    def send(request: HttpRequest) -> LambdaResponse:
        start.wait()
        return api.invoke_in_this_thread(request)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_given_two_patches_with_the_same_if_match_when_they_race_then_one_wins_and_one_412(
    api: FunctionApi, db: Db
) -> None:
    # Given a task's owner and its assignee, both holding ETag "1"
    owner = make_user(db, role=Role.MANAGER)
    assignee = make_user(db)
    project = make_project(db, owner)
    owner_token, assignee_token = token_of(owner), token_of(assignee)

    for round_ in range(ROUNDS):
        task = make_task(db, project, assignee=assignee, description="original")
        path = f"/tasks/{task.id}"
        requests = [
            HttpRequest.of(
                "PATCH",
                path,
                token=owner_token,
                json={"description": f"owner's edit {round_}"},
                headers={"If-Match": '"1"'},
            ),
            HttpRequest.of(
                "PATCH",
                path,
                token=assignee_token,
                json={"status": "COMPLETED"},
                headers={"If-Match": '"1"'},
            ),
        ]

        # When both PATCHes arrive at once
        responses = all_at_once(api, requests)

        # Then exactly one is applied (200, ETag "2") and the other is a 412 problem
        doc = db.tasks.find_one({"_id": ObjectId(task.id)})
        assert doc is not None
        statuses = sorted(r.status for r in responses)
        assert statuses == [200, 412], (
            f"round {round_}: answers {statuses}, stored version {doc['version']}, "
            f"description {doc['description']!r}, status {doc['status']}"
        )
        winner = next(r for r in responses if r.status == 200)
        loser = next(r for r in responses if r.status == 412)
        assert winner.headers["etag"] == '"2"'
        assert loser.problem()["title"] == "Precondition Failed"
        # and the stored task grew by exactly one version, holding the winner's change only
        assert doc["version"] == 2, (round_, doc)
        body = winner.json()
        assert (doc["description"], doc["status"]) == (body["description"], body["status"])
        assert (doc["description"] == "original") != (doc["status"] == "ASSIGNED"), doc


def test_given_eight_creates_with_one_idempotency_key_when_they_race_then_one_task_exists(
    api: FunctionApi, db: Db
) -> None:
    # Given a project owner sending one create eight times with one Idempotency-Key
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    token = token_of(owner)
    body = {"projectId": project.id, "description": "Exactly once", "dueDate": "2031-01-01"}

    def create() -> HttpRequest:
        return HttpRequest.of(
            "POST", "/tasks", token=token, json=body, headers={"Idempotency-Key": "race-1"}
        )

    # When all eight invocations run at once
    responses = all_at_once(api, [create() for _ in range(CLIENTS)])

    # Then MongoDB holds exactly one such task
    stored = list(db.tasks.find({"projectId": project.id}))
    assert len(stored) == 1, stored
    task_id = str(stored[0]["_id"])
    # and every answer is that task's 201 (the original, or a replay saying so) or a 409
    # asking to retry while the first one still runs
    created = [r for r in responses if r.status == 201]
    originals = [r for r in created if "idempotent-replayed" not in r.headers]
    assert len(originals) == 1, [(r.status, r.headers) for r in responses]
    for response in created:
        assert response.json() == originals[0].json()
        assert response.json()["id"] == task_id
        assert response.headers["location"] == f"/tasks/{task_id}"
        assert response.headers["etag"] == '"1"'
        assert response.headers.get("idempotent-replayed", "true") == "true"
    for response in responses:
        if response.status != 201:
            assert response.status == 409, (response.status, response.body)
            assert "in progress" in response.problem()["detail"]

    # and a retry afterwards is a replay of the same 201, still creating nothing
    retry = api.request(
        "POST", "/tasks", token=token, json=body, headers={"Idempotency-Key": "race-1"}
    )
    assert retry.status == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == originals[0].json()
    assert db.tasks.count_documents({}) == 1
