"""Login throttling: 5 failures for one email from one address lock that pair out for a while."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import UsersApi
from todo_common import container
from todo_common.errors import TooManyRequests, Unauthorized
from todo_common.records import User
from todo_common.services.auth import AuthService
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
IP = "203.0.113.10"
OTHER_IP = "203.0.113.11"
WINDOW_SECONDS = 15 * 60


def fail_logins(auth: AuthService, email: str, times: int, ip: str = IP) -> None:
    for _ in range(times):
        with pytest.raises(Unauthorized):
            auth.login(email, "not-the-password", ip)


@pytest.fixture
def user(db: Db, clean: None) -> User:
    return make_user(db)


def test_the_limits_are_five_failures_in_fifteen_minutes() -> None:
    # The figures below and SPEC §4 agree with the settings the service is built from.
    security = get_settings().security
    assert (security.login_max_failures, security.login_window_seconds) == (5, WINDOW_SECONDS)


def test_after_five_failures_even_the_right_password_is_too_many_requests(user: User) -> None:
    # Given five failed logins for one email from one address
    auth = container.auth_service()
    fail_logins(auth, user.email, 5)

    # When the sixth attempt has the right password
    with pytest.raises(TooManyRequests) as caught:
        auth.login(user.email, DEFAULT_PASSWORD, IP)

    # Then it is a 429 telling when to come back: within the 15-minute window
    assert caught.value.status == 429
    retry_after = int(caught.value.headers["Retry-After"])
    assert 1 <= retry_after <= WINDOW_SECONDS


def test_four_failures_do_not_lock_the_account(user: User) -> None:
    # Given four failed logins
    auth = container.auth_service()
    fail_logins(auth, user.email, 4)

    # Then the fifth attempt, with the right password, succeeds
    pair = auth.login(user.email, DEFAULT_PASSWORD, IP)
    assert auth.authenticate(pair.access_token).user_id == user.id


def test_the_lockout_counts_the_email_in_any_case(user: User) -> None:
    # Given five failures with the email in upper case
    auth = container.auth_service()
    fail_logins(auth, user.email.upper(), 5)

    # Then the lower-case email is locked out too
    with pytest.raises(TooManyRequests):
        auth.login(user.email, DEFAULT_PASSWORD, IP)


def test_another_address_is_not_locked_out(user: User) -> None:
    # Given a lockout of one email from one address
    auth = container.auth_service()
    fail_logins(auth, user.email, 5)

    # When the same user logs in from another address
    pair = auth.login(user.email, DEFAULT_PASSWORD, OTHER_IP)

    # Then it works
    assert auth.authenticate(pair.access_token).user_id == user.id


def test_another_email_from_the_same_address_is_not_locked_out(db: Db, user: User) -> None:
    # Given a lockout of one email from one address
    colleague = make_user(db)
    auth = container.auth_service()
    fail_logins(auth, user.email, 5)

    # When another user logs in from that address
    pair = auth.login(colleague.email, DEFAULT_PASSWORD, IP)

    # Then it works
    assert auth.authenticate(pair.access_token).user_id == colleague.id


def test_a_success_before_the_fifth_failure_resets_the_count(user: User) -> None:
    # Given four failures, then a successful login
    auth = container.auth_service()
    fail_logins(auth, user.email, 4)
    auth.login(user.email, DEFAULT_PASSWORD, IP)

    # When four more failures follow
    fail_logins(auth, user.email, 4)

    # Then the user can still log in: the count started again from zero
    auth.login(user.email, DEFAULT_PASSWORD, IP)
    # and it takes five fresh failures to lock them out
    fail_logins(auth, user.email, 5)
    with pytest.raises(TooManyRequests):
        auth.login(user.email, DEFAULT_PASSWORD, IP)


def test_failures_of_an_unknown_email_are_counted_too(clean: None) -> None:
    # Given five failed logins for an email nobody has
    auth = container.auth_service()
    fail_logins(auth, "ghost@example.com", 5)

    # Then the sixth is throttled, as for a real account (no way to tell them apart)
    with pytest.raises(TooManyRequests):
        auth.login("ghost@example.com", "whatever-123", IP)


def test_the_counter_in_redis_expires_with_the_window(
    user: User, redis_client: redis.Redis
) -> None:
    # Given one failed login
    auth = container.auth_service()
    fail_logins(auth, user.email, 1)

    # Then Redis holds one counter for it, set to expire within the window, and its key
    # names neither the email nor the address in clear
    keys = list(redis_client.scan_iter("login-failures:*"))
    assert len(keys) == 1
    assert 0 < redis_client.ttl(keys[0]) <= WINDOW_SECONDS
    assert user.email not in str(keys[0])
    assert IP not in str(keys[0])


def test_the_http_answer_is_429_with_retry_after(user: User) -> None:
    # Given five failed logins through the users function
    api = UsersApi()
    for _ in range(5):
        response = api.request(
            "POST", "/auth/login", json={"email": user.email, "password": "not-the-password"}
        )
        assert response.status == 401

    # When the right password is sent
    response = api.request(
        "POST", "/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )

    # Then the answer is a 429 problem with a Retry-After header within the window
    assert response.status == 429
    problem = response.problem()
    assert problem["title"] == "Too Many Requests"
    assert 1 <= int(response.headers["retry-after"]) <= WINDOW_SECONDS
    assert "access_token" not in problem
