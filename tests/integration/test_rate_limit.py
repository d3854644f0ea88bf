"""Rate limits a client can read (issue 21.5), through the users function's Lambda handler.

Every authenticated request counts against its session's budget, a tiny one here (3 per
minute, set through the settings as a deployment would); each answer says where the session
stands in `RateLimit-Policy` / `RateLimit` (draft-ietf-httpapi-ratelimit-headers), and past
the budget it is a 429 with `Retry-After`. The login throttle shows its own budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_access_token, make_user
from tests.integration.lambda_events import LambdaResponse, UsersApi
from todo_common import container
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
BUDGET = 3
STATE = re.compile(r'^"default";r=(\d+);t=(\d+)$')


@pytest.fixture
def api(clean: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[UsersApi]:
    monkeypatch.setenv("SECURITY_RATE_LIMIT_REQUESTS", str(BUDGET))
    monkeypatch.setenv("SECURITY_RATE_LIMIT_WINDOW_SECONDS", "60")
    get_settings.cache_clear()
    container.reset()
    yield UsersApi()
    monkeypatch.undo()
    get_settings.cache_clear()
    container.reset()


def remaining(response: LambdaResponse) -> tuple[int, int]:
    """`r` and `t` of the `default` policy, after checking the policy names the budget."""
    assert response.headers["ratelimit-policy"] == f'"default";q={BUDGET};w=60'
    match = STATE.match(response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    return int(match.group(1)), int(match.group(2))


def signed_in(api: UsersApi, db: Db) -> str:
    return api.token_for(make_user(db).email, DEFAULT_PASSWORD)


def test_every_authenticated_answer_counts_down_the_sessions_budget(api: UsersApi, db: Db) -> None:
    # Given a signed-in caller
    token = signed_in(api, db)

    # When it calls three times, once with a request that fails validation
    answers = [
        api.request("GET", "/users/me", token=token),
        api.request("GET", "/users", token=token, query={"limit": "0"}),
        api.request("GET", "/users/me", token=token),
    ]

    # Then each answer, the 422 too, says how much is left of the window, counting down
    assert [a.status for a in answers] == [200, 422, 200]
    assert [remaining(a)[0] for a in answers] == [2, 1, 0]
    assert all(0 < remaining(a)[1] <= 60 for a in answers)


def test_past_the_budget_a_request_is_429_with_retry_after(api: UsersApi, db: Db) -> None:
    # Given a caller that has spent its budget
    token = signed_in(api, db)
    for _ in range(BUDGET):
        assert api.request("GET", "/users/me", token=token).status == 200

    # When it calls again
    refused = api.request("GET", "/users/me", token=token)

    # Then it is a 429 problem saying when to retry, and the headers say nothing is left
    assert refused.status == 429
    assert refused.problem()["type"].endswith("/too-many-requests")
    left, reset = remaining(refused)
    assert left == 0
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert int(refused.headers["retry-after"]) == reset


def test_two_sessions_have_budgets_of_their_own(api: UsersApi, db: Db) -> None:
    # Given one caller that has spent its budget
    spent = signed_in(api, db)
    for _ in range(BUDGET + 1):
        api.request("GET", "/users/me", token=spent)

    # When another caller calls
    other = api.request("GET", "/users/me", token=signed_in(api, db))

    # Then it is served from its own, full budget
    assert other.status == 200
    assert remaining(other)[0] == BUDGET - 1


def test_a_personal_access_token_has_a_budget_of_its_own_apart_from_its_owners_session(
    api: UsersApi, db: Db
) -> None:
    # Given a user whose session has spent its budget, and two tokens of theirs
    owner = make_user(db)
    session = api.token_for(owner.email, DEFAULT_PASSWORD)
    for _ in range(BUDGET + 1):
        api.request("GET", "/users/me", token=session)
    _, spending = make_access_token(db, owner)
    _, other = make_access_token(db, owner, name="bot")

    # When one token spends its budget
    answers = [api.request("GET", "/users/me", token=spending) for _ in range(BUDGET + 1)]

    # Then it counts down from a full budget of its own, then is 429
    assert [a.status for a in answers] == [200] * BUDGET + [429]
    assert [remaining(a)[0] for a in answers[:BUDGET]] == list(range(BUDGET - 1, -1, -1))
    assert int(answers[-1].headers["retry-after"]) >= 1
    # and the other token, like the owner's next session, still has all of its own
    fresh = api.request("GET", "/users/me", token=other)
    assert fresh.status == 200
    assert remaining(fresh)[0] == BUDGET - 1
    assert api.request("GET", "/users/me", token=session).status == 429


def test_an_ended_session_is_401_and_costs_no_budget(
    api: UsersApi, db: Db, redis_client: redis.Redis
) -> None:
    # Given a caller that logged out
    token = signed_in(api, db)
    assert api.request("POST", "/auth/logout", token=token).status == 204
    counters = set(redis_client.scan_iter("rate:*"))

    # When its token is presented again
    response = api.request("GET", "/users/me", token=token)

    # Then it is 401, without rate-limit headers, and nothing new was counted or written back
    assert response.status == 401
    assert "ratelimit" not in response.headers
    assert set(redis_client.scan_iter("rate:*")) == counters
    assert not list(redis_client.scan_iter("session:*"))


def test_a_login_shows_the_throttles_budget_for_the_email_and_address(
    api: UsersApi, db: Db
) -> None:
    # Given an account
    user = make_user(db)
    policy = f'"login";q={get_settings().security.login_max_failures};w=900'

    # When a wrong password is tried twice, then the right one
    body = {"email": user.email, "password": "not-the-password"}
    wrong = [api.request("POST", "/auth/login", json=body) for _ in range(2)]
    right = api.request(
        "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )

    # Then the failures count down the pair's checks, and a success gives them all back
    assert [w.status for w in wrong] == [401, 401]
    assert all(w.headers["ratelimit-policy"] == policy for w in wrong)
    assert [w.headers["ratelimit"].split(";")[1] for w in wrong] == ["r=4", "r=3"]
    assert right.status == 200
    assert right.headers["ratelimit"].startswith('"login";r=5;')
