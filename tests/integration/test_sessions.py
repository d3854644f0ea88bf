"""Sessions in Redis, and the login / refresh / logout / authenticate flow built on them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from pymongo.database import Database

from tests.factories import DEFAULT_PASSWORD, make_user
from todo_common import container
from todo_common.errors import Unauthorized
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.security.rate_limit import RequestBudget
from todo_common.security.sessions import Opening, Rotation, Session, SessionStore
from todo_common.security.tokens import TokenType

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
TTL = 600
IP = "203.0.113.7"


@pytest.fixture
def store(redis_client: redis.Redis) -> SessionStore:
    return SessionStore(redis_client)


# -- SessionStore ------------------------------------------------------------------------------


def test_a_created_session_can_be_read_back_and_expires(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # When a session is created
    store.create("sid-1", "user-1", "MANAGER", "jti-1", TTL)

    # Then it reads back with its user and role, and Redis will expire it
    assert store.get("sid-1") == Session(sid="sid-1", user_id="user-1", role="MANAGER")
    assert 0 < redis_client.ttl("session:sid-1") <= TTL
    assert redis_client.smembers("user-sessions:user-1") == {"sid-1"}


def test_an_unknown_session_is_none(store: SessionStore) -> None:
    assert store.get("never-created") is None


def test_rotating_with_the_current_jti_rotates(store: SessionStore) -> None:
    # Given a session whose refresh token id is jti-1
    store.create("sid-1", "user-1", "USER", "jti-1", TTL)

    # When jti-1 is swapped for jti-2
    outcome = store.rotate("sid-1", "jti-1", "jti-2", TTL)

    # Then it rotated, the session lives on, and jti-2 is now the one that rotates
    assert outcome is Rotation.ROTATED
    assert store.get("sid-1") is not None
    assert store.rotate("sid-1", "jti-2", "jti-3", TTL) is Rotation.ROTATED


def test_presenting_a_used_jti_again_is_reuse_and_ends_the_session(
    store: SessionStore,
) -> None:
    # Given a session that rotated from jti-1 to jti-2
    store.create("sid-1", "user-1", "USER", "jti-1", TTL)
    assert store.rotate("sid-1", "jti-1", "jti-2", TTL) is Rotation.ROTATED

    # When jti-1 is presented again (a stolen copy, say)
    outcome = store.rotate("sid-1", "jti-1", "jti-x", TTL)

    # Then it is reuse, and the session is gone, so even the current jti-2 no longer works
    assert outcome is Rotation.REUSED
    assert store.get("sid-1") is None
    assert store.rotate("sid-1", "jti-2", "jti-y", TTL) is Rotation.UNKNOWN


def test_rotating_an_unknown_session_changes_nothing(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    assert store.rotate("no-such-sid", "jti-1", "jti-2", TTL) is Rotation.UNKNOWN
    assert redis_client.exists("session:no-such-sid") == 0


def test_revoke_ends_one_session_and_forgets_it_for_the_user(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # Given a user with two sessions
    store.create("sid-1", "user-1", "USER", "jti-1", TTL)
    store.create("sid-2", "user-1", "USER", "jti-2", TTL)

    # When one is revoked
    store.revoke("sid-1", "user-1")

    # Then only the other remains
    assert store.get("sid-1") is None
    assert store.get("sid-2") is not None
    assert redis_client.smembers("user-sessions:user-1") == {"sid-2"}


def test_revoke_all_keeps_only_the_session_asked_for(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # Given a user with three sessions, and another user with one
    for n in (1, 2, 3):
        store.create(f"sid-{n}", "user-1", "USER", f"jti-{n}", TTL)
    store.create("sid-other", "user-2", "USER", "jti-o", TTL)

    # When all of the first user's sessions but sid-2 are revoked
    revoked = store.revoke_all("user-1", keep="sid-2")

    # Then two went, sid-2 stays, and the other user is unaffected
    assert revoked == 2
    assert store.get("sid-1") is None
    assert store.get("sid-3") is None
    assert store.get("sid-2") is not None
    assert store.get("sid-other") is not None
    assert redis_client.smembers("user-sessions:user-1") == {"sid-2"}


def test_revoke_all_without_keep_ends_every_session(store: SessionStore) -> None:
    store.create("sid-1", "user-1", "USER", "jti-1", TTL)
    store.create("sid-2", "user-1", "USER", "jti-2", TTL)

    assert store.revoke_all("user-1") == 2
    assert store.get("sid-1") is None
    assert store.get("sid-2") is None
    assert store.revoke_all("user-1") == 0


# -- AuthService -------------------------------------------------------------------------------


def test_login_returns_tokens_for_an_open_session(db: Db, clean: None) -> None:
    # Given a MANAGER
    user = make_user(db, role=Role.MANAGER)

    # When they log in (with the email in another case)
    pair = container.auth_service().login(user.email.upper(), DEFAULT_PASSWORD, IP)

    # Then both tokens name one session, which exists in Redis for this user and role
    access = container.token_service().verify(pair.access_token, TokenType.ACCESS)
    refresh = container.token_service().verify(pair.refresh_token, TokenType.REFRESH)
    assert access.sid == refresh.sid
    assert access.sub == user.id
    assert container.session_store().get(access.sid) == Session(
        sid=access.sid, user_id=user.id, role="MANAGER"
    )
    # and the access token authenticates as that user
    principal = container.auth_service().authenticate(pair.access_token)
    assert (principal.user_id, principal.role, principal.session_id) == (
        user.id,
        Role.MANAGER,
        access.sid,
    )


def test_refresh_rotates_and_the_new_pair_works(db: Db, clean: None) -> None:
    # Given a logged-in user
    user = make_user(db)
    auth = container.auth_service()
    first = auth.login(user.email, DEFAULT_PASSWORD, IP)

    # When the refresh token is used
    second = auth.refresh(first.refresh_token)

    # Then a new pair comes back, for the same session, and it authenticates
    assert second.refresh_token != first.refresh_token
    assert auth.authenticate(second.access_token).user_id == user.id
    # and the new refresh token rotates in turn
    assert auth.refresh(second.refresh_token).refresh_token != second.refresh_token


def test_reusing_a_refresh_token_revokes_the_whole_session(db: Db, clean: None) -> None:
    # Given a session whose refresh token was already rotated once
    user = make_user(db)
    auth = container.auth_service()
    first = auth.login(user.email, DEFAULT_PASSWORD, IP)
    second = auth.refresh(first.refresh_token)
    sid = auth.authenticate(second.access_token).session_id
    assert sid is not None

    # When the old refresh token is presented again
    with pytest.raises(Unauthorized) as caught:
        auth.refresh(first.refresh_token)

    # Then it is refused (401 with a Bearer challenge) and the session is gone: the new
    # access token and the new refresh token fail too
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"].startswith("Bearer")
    assert container.session_store().get(sid) is None
    with pytest.raises(Unauthorized):
        auth.authenticate(second.access_token)
    with pytest.raises(Unauthorized):
        auth.refresh(second.refresh_token)


def test_a_second_login_is_a_separate_session(db: Db, clean: None) -> None:
    # Given a user logged in on two devices
    user = make_user(db)
    auth = container.auth_service()
    laptop = auth.login(user.email, DEFAULT_PASSWORD, IP)
    phone = auth.login(user.email, DEFAULT_PASSWORD, IP)

    # When the laptop's session is revoked by refresh-token reuse
    auth.refresh(laptop.refresh_token)
    with pytest.raises(Unauthorized):
        auth.refresh(laptop.refresh_token)

    # Then the phone is still logged in
    assert auth.authenticate(phone.access_token).user_id == user.id


def test_logout_ends_access_and_refresh_at_once(db: Db, clean: None) -> None:
    # Given a logged-in user
    user = make_user(db)
    auth = container.auth_service()
    pair = auth.login(user.email, DEFAULT_PASSWORD, IP)
    principal = auth.authenticate(pair.access_token)
    assert principal.session_id is not None

    # When they log out
    auth.logout(principal)

    # Then neither token works any more, though neither has expired
    with pytest.raises(Unauthorized):
        auth.authenticate(pair.access_token)
    with pytest.raises(Unauthorized):
        auth.refresh(pair.refresh_token)
    assert container.session_store().get(principal.session_id) is None


def test_a_token_of_the_wrong_type_is_refused(db: Db, clean: None) -> None:
    # Given a logged-in user
    user = make_user(db)
    auth = container.auth_service()
    pair = auth.login(user.email, DEFAULT_PASSWORD, IP)

    # Then a refresh token does not authenticate a request, nor an access token refresh
    with pytest.raises(Unauthorized):
        auth.authenticate(pair.refresh_token)
    with pytest.raises(Unauthorized):
        auth.refresh(pair.access_token)
    # and the session survives both attempts
    assert auth.authenticate(pair.access_token).user_id == user.id


def test_wrong_email_wrong_password_and_inactive_user_fail_alike(
    db: Db, redis_client: redis.Redis, clean: None
) -> None:
    # Given an active user and an inactive one
    active = make_user(db)
    inactive = make_user(db, is_active=False)
    auth = container.auth_service()

    # When each kind of bad login is tried (from different addresses, so no throttling)
    failures: list[Unauthorized] = []
    for n, (email, password) in enumerate(
        [
            ("nobody@example.com", DEFAULT_PASSWORD),
            (active.email, "wrong-password-1"),
            (inactive.email, DEFAULT_PASSWORD),
        ]
    ):
        with pytest.raises(Unauthorized) as caught:
            auth.login(email, password, f"198.51.100.{n}")
        failures.append(caught.value)

    # Then all three are the same 401, so none tells which part was wrong
    assert {(f.status, f.detail, tuple(sorted(f.headers.items()))) for f in failures} == {
        (failures[0].status, failures[0].detail, tuple(sorted(failures[0].headers.items())))
    }
    assert failures[0].status == 401
    # and no session was opened
    assert list(redis_client.scan_iter("session:*")) == []


# -- A request's use of its session (issue 21.5) -----------------------------------------------

BUDGET = RequestBudget(requests=3, window_seconds=60)


def test_using_a_session_marks_it_used_and_counts_the_request(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # Given a session opened at one instant
    opened = utcnow() - timedelta(minutes=5)
    store.create("sid-1", "user-1", "USER", "jti-1", TTL, Opening(opened, IP, "cli/1.0"))

    # When two requests use it
    store.use("sid-1", BUDGET, utcnow())
    use = store.use("sid-1", BUDGET, utcnow())

    # Then both counted in one window, and the session says when it was last used
    assert use.session == Session(sid="sid-1", user_id="user-1", role="USER")
    assert (use.used, 0 < use.resets_in <= 60) == (2, True)
    [record] = store.sessions_of("user-1")
    assert record.created_at == opened
    assert record.last_used_at is not None
    assert record.last_used_at > opened
    assert (record.client_address, record.user_agent) == (IP, "cli/1.0")


def test_using_an_ended_session_neither_counts_nor_brings_it_back(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # Given a session that was revoked
    store.create("sid-1", "user-1", "USER", "jti-1", TTL, Opening(utcnow(), IP, ""))
    store.revoke("sid-1", "user-1")

    # When a request still presents it
    use = store.use("sid-1", BUDGET, utcnow())

    # Then there is no session, none is written back, and nothing was counted
    assert use.session is None
    assert redis_client.exists("session:sid-1") == 0
    assert redis_client.exists(BUDGET.key("sid-1")) == 0


def test_listing_a_users_sessions_forgets_the_ids_of_ended_ones(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # Given two sessions of a user, one of which expired on its own (its hash is gone)
    store.create("sid-1", "user-1", "USER", "jti-1", TTL, Opening(utcnow(), IP, "a"))
    store.create("sid-2", "user-1", "USER", "jti-2", TTL, Opening(utcnow(), IP, "b"))
    redis_client.delete("session:sid-1")

    # When the user's sessions are listed
    listed = store.sessions_of("user-1")

    # Then only the open one is, and the stale id is gone from the user's set
    assert [r.sid for r in listed] == ["sid-2"]
    assert redis_client.smembers("user-sessions:user-1") == {"sid-2"}


def test_a_session_kept_alive_by_refreshes_stays_in_its_users_set(
    store: SessionStore, redis_client: redis.Redis
) -> None:
    # Given a user's set that would expire sooner than a refresh extends the session
    store.create("sid-1", "user-1", "USER", "jti-1", 5)

    # When the session's refresh token rotates with a longer lifetime
    store.rotate("sid-1", "jti-1", "jti-2", TTL, user_id="user-1")

    # Then the set lives as long as the session, so revoking all of the user's still finds it
    assert redis_client.ttl("user-sessions:user-1") > 5
    assert store.revoke_all("user-1") == 1
