"""Cursor pagination of the user directory: every user exactly once, in order, whatever happens."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo.database import Database

from tests.factories import make_user
from tests.integration.lambda_events import UsersApi
from todo_common import container
from todo_common.errors import InvalidInput
from todo_common.principal import Principal, Role
from todo_common.records import User

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
DIRECTORY_SIZE = 230
# Three name families in mixed case, so that a prefix search and a case-insensitive sort
# each have something to get wrong.
FAMILIES = ("alpha", "Bravo", "CHARLIE")
ROLES = (Role.USER, Role.USER, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Directory:
    admin: Principal
    users: list[User]  # in the order they were created


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id="not-checked-by-list")


@pytest.fixture
def directory(db: Db, clean: None) -> Directory:
    """230 users of every role, one in seven inactive, created one after the other."""
    users = []
    for n in range(DIRECTORY_SIZE):
        family = FAMILIES[n % len(FAMILIES)]
        users.append(
            make_user(
                db,
                role=ROLES[n % len(ROLES)],
                username=f"{family}-{n:03d}" if n % 2 else f"{family.swapcase()}-{n:03d}",
                is_active=n % 7 != 3,
            )
        )
    admin = next(u for u in users if u.role is Role.ADMIN and u.is_active)
    return Directory(_principal(admin), users)


def walk(
    principal: Principal,
    *,
    limit: int,
    sort: str = "createdAt",
    role: Role | None = None,
    is_active: bool | None = None,
    q: str | None = None,
    between_pages: Iterator[None] | None = None,
) -> tuple[list[User], list[int]]:
    """Follow `nextCursor` to the end; return every user seen and the size of each page."""
    service = container.user_service()
    seen: list[User] = []
    sizes: list[int] = []
    cursor: str | None = None
    for _ in range(1000):  # a bound, so that a cursor that loops fails instead of hanging
        page = service.list(
            principal,
            role=role,
            is_active=is_active,
            q=q,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        seen.extend(page.items)
        sizes.append(len(page.items))
        if page.next_cursor is None:
            return seen, sizes
        cursor = page.next_cursor
        if between_pages is not None:
            next(between_pages)
    pytest.fail("the cursor never reached the end")


def ids(users: list[User]) -> list[str]:
    return [u.id for u in users]


def test_walking_with_limit_50_returns_every_user_once_in_creation_order(
    directory: Directory,
) -> None:
    # Given 230 users
    # When an ADMIN follows nextCursor 50 at a time
    seen, sizes = walk(directory.admin, limit=50)

    # Then every user comes exactly once, oldest first, in pages of 50 and a last one of 30
    assert ids(seen) == ids(directory.users)
    assert sizes == [50, 50, 50, 50, 30]
    created = [u.created_at for u in seen]
    assert created == sorted(created)


def test_a_directory_that_fills_the_last_page_exactly_ends_with_a_null_cursor(
    db: Db, clean: None
) -> None:
    # Given exactly two pages of users
    users = [make_user(db, role=Role.ADMIN if n == 0 else Role.USER) for n in range(20)]

    # When they are walked 10 at a time
    seen, sizes = walk(_principal(users[0]), limit=10)

    # Then there is no third, empty page: the second one already says it is the last
    assert sizes == [10, 10]
    assert ids(seen) == ids(users)


def test_descending_creation_order_is_the_exact_reverse(directory: Directory) -> None:
    # When the directory is walked newest first
    seen, _ = walk(directory.admin, limit=50, sort="-createdAt")

    # Then it is the creation order reversed, each user once
    assert ids(seen) == ids(directory.users)[::-1]


@pytest.mark.parametrize("sort", ["username", "-username"])
def test_username_order_ignores_case(directory: Directory, sort: str) -> None:
    # When the directory is walked by username, 37 at a time
    seen, _ = walk(directory.admin, limit=37, sort=sort)

    # Then the names come in case-insensitive order (ties by id), each user once
    expected = sorted(directory.users, key=lambda u: (u.username.lower(), u.id))
    if sort.startswith("-"):
        expected.reverse()
    assert [u.username for u in seen] == [u.username for u in expected]
    assert len(set(ids(seen))) == DIRECTORY_SIZE


@pytest.mark.parametrize(
    ("role", "is_active", "q"),
    [
        (Role.MANAGER, None, None),
        (None, False, None),
        (None, None, "bRaVo"),
        (Role.USER, True, "ALPHA"),
        (Role.ADMIN, True, "charlie-1"),
    ],
)
def test_filters_hold_on_every_page(
    directory: Directory, role: Role | None, is_active: bool | None, q: str | None
) -> None:
    # Given the users a filter should select (q: a case-insensitive username prefix here)
    expected = [
        u
        for u in directory.users
        if (role is None or u.role is role)
        and (is_active is None or u.is_active is is_active)
        and (q is None or u.username.lower().startswith(q.lower()))
    ]
    assert expected, "the filter should select somebody"

    # When the filtered directory is walked 7 at a time
    seen, _ = walk(directory.admin, limit=7, role=role, is_active=is_active, q=q)

    # Then exactly those users come back, in creation order: no page drops the filter
    assert ids(seen) == ids(expected)


def test_q_matches_an_email_prefix_too(db: Db, clean: None) -> None:
    # Given a user whose email, but not name, starts with "zed"
    admin = make_user(db, role=Role.ADMIN)
    target = make_user(db, username="someone", email="Zed.Mail@example.com")

    # When the directory is searched for "ZED"
    seen, _ = walk(_principal(admin), limit=5, q="ZED")

    # Then that user is found
    assert ids(seen) == [target.id]


def test_users_created_during_a_walk_never_repeat_or_hide_the_others(
    directory: Directory, db: Db
) -> None:
    # Given a walk in creation order, and ten new users arriving after every page
    arrivals: list[User] = []

    def ten_new_users() -> Iterator[None]:
        for n in itertools.count():
            arrivals.extend(make_user(db, username=f"late-{n}-{k}") for k in range(10))
            yield

    # When the directory is walked 50 at a time
    seen, _ = walk(directory.admin, limit=50, between_pages=ten_new_users())

    # Then every original user comes exactly once, in order, and nobody comes twice
    assert len(seen) == len(set(ids(seen)))
    original = set(ids(directory.users))
    assert [i for i in ids(seen) if i in original] == ids(directory.users)
    # and the newcomers, who sort after everyone, follow the originals
    assert arrivals
    assert ids(seen)[DIRECTORY_SIZE:] == ids(arrivals)


def test_users_created_during_a_newest_first_walk_do_not_appear(
    directory: Directory, db: Db
) -> None:
    # Given a newest-first walk, with new users arriving after every page
    arrivals: list[User] = []

    def three_new_users() -> Iterator[None]:
        for n in itertools.count():
            arrivals.extend(make_user(db, username=f"late-{n}-{k}") for k in range(3))
            yield

    # When the directory is walked 50 at a time
    seen, _ = walk(directory.admin, limit=50, sort="-createdAt", between_pages=three_new_users())

    # Then the walk is exactly the original users, newest first: the newcomers sort before
    # the cursor, so they neither appear nor push anyone onto the next page twice
    assert arrivals
    assert ids(seen) == ids(directory.users)[::-1]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "e30", "eyJzIjoiY3JlYXRlZEF0In0"])
def test_a_forged_cursor_is_invalid_input(directory: Directory, cursor: str) -> None:
    # When a cursor that this API did not issue is sent
    with pytest.raises(InvalidInput) as caught:
        container.user_service().list(
            directory.admin, role=None, is_active=None, q=None, sort="createdAt", limit=5,
            cursor=cursor,
        )  # fmt: skip

    # Then it is a 422 naming the cursor
    assert caught.value.status == 422
    assert [list(e.loc) for e in caught.value.errors] == [["query", "cursor"]]


def test_a_cursor_cannot_be_used_with_another_sort(directory: Directory) -> None:
    # Given a cursor from a walk by creation time
    service = container.user_service()
    first = service.list(
        directory.admin, role=None, is_active=None, q=None, sort="createdAt", limit=5, cursor=None
    )
    assert first.next_cursor is not None

    # When it is used to continue a walk by username
    with pytest.raises(InvalidInput):
        service.list(
            directory.admin, role=None, is_active=None, q=None, sort="username", limit=5,
            cursor=first.next_cursor,
        )  # fmt: skip


def test_the_http_directory_pages_with_next_cursor_and_ends_with_null(
    directory: Directory,
) -> None:
    # Given an ADMIN logged in through the users function
    api = UsersApi()
    admin_user = next(u for u in directory.users if u.id == directory.admin.user_id)
    token = api.token_for(admin_user.email, "correct-horse-9")

    # When GET /users is followed page by page, 50 at a time
    seen: list[str] = []
    query = {"limit": "50"}
    bodies: list[dict[str, Any]] = []
    while True:
        response = api.request("GET", "/users", token=token, query=query)
        assert response.status == 200, response.body
        body: dict[str, Any] = response.json()
        bodies.append(body)
        seen.extend(item["id"] for item in body["items"])
        if body["nextCursor"] is None:
            break
        query = {"limit": "50", "cursor": body["nextCursor"]}
        assert len(bodies) < 10

    # Then it is the whole directory once, in five pages, the last with "nextCursor": null
    assert seen == ids(directory.users)
    assert len(bodies) == 5
    assert set(bodies[-1]) == {"items", "nextCursor"}
    assert all("passwordHash" not in item for body in bodies for item in body["items"])
