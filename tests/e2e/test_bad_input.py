"""Bad input over HTTP (SPEC §4, §6): every request here is refused with the right status and a
problem document, and the stored users are exactly as they were.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import (
    OVERSIZED,
    BadInput,
    assert_problem,
    expired_headers,
    forged_headers,
    list_cursor,
    users_state,
)
from tests.factories import DEFAULT_PASSWORD, make_user
from todo_common.errors import PayloadTooLarge
from todo_common.http.problems import TYPE_BASE
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
JSON = {"Content-Type": "application/json"}
LONG_ASCII_PASSWORD = "p" * 73
LONG_UTF8_PASSWORD = "é" * 37  # 37 characters but 74 UTF-8 bytes


@dataclass(frozen=True)
class Context:
    """What a bad request is made from: a client, an ADMIN's headers and a target user."""

    client: httpx.Client
    admin: dict[str, str]
    target: User

    @property
    def user_url(self) -> str:
        return f"/users/{self.target.id}"


def _new_user(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "fullName": "New Comer",
        "password": "a-good-password",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _create(**changes: Any) -> Callable[[Context], httpx.Response]:
    return lambda c: c.client.post("/users", json=_new_user(**changes), headers=c.admin)


def _patch(body: Any) -> Callable[[Context], httpx.Response]:
    return lambda c: c.client.patch(c.user_url, json=body, headers=c.admin)


def _raw(method: str, path: str, content: bytes) -> Callable[[Context], httpx.Response]:
    return lambda c: c.client.request(
        method, path.replace("{id}", c.target.id), content=content, headers={**c.admin, **JSON}
    )


def _list(**params: Any) -> Callable[[Context], httpx.Response]:
    return lambda c: c.client.get("/users", params=params, headers=c.admin)


def _oversized_json() -> bytes:
    return json.dumps(_new_user(fullName="x" * OVERSIZED)).encode()


def _chunks(body: bytes) -> Iterator[bytes]:
    """A body sent with `Transfer-Encoding: chunked`, so no Content-Length announces its size."""
    for start in range(0, len(body), 8192):
        yield body[start : start + 8192]


BAD_INPUTS: dict[str, BadInput[Context]] = {
    # malformed bodies
    "malformed JSON on create": BadInput(_raw("POST", "/users", b'{"username": "x",'), 422),
    "malformed JSON on patch": BadInput(_raw("PATCH", "/users/{id}", b'{"fullName": '), 422),
    "JSON array on create": BadInput(_raw("POST", "/users", b"[]"), 422),
    "JSON string on patch": BadInput(_raw("PATCH", "/users/{id}", b'"fullName"'), 422),
    "malformed JSON on login": BadInput(
        lambda c: c.client.post("/auth/login", content=b"{", headers=JSON), 422
    ),
    # unknown fields: mass assignment is impossible
    "unknown field on create": BadInput(_create(isAdmin=True), 422),
    "stored field passwordHash on create": BadInput(_create(passwordHash="$2b$04$x"), 422),
    "unknown field on patch": BadInput(_patch({"fullName": "Ok", "nickname": "x"}), 422),
    "stored field passwordHash on patch": BadInput(_patch({"passwordHash": "$2b$04$x"}), 422),
    "stored field version on patch": BadInput(_patch({"version": 99}), 422),
    "stored field createdAt on patch": BadInput(_patch({"createdAt": "2000-01-01T00:00:00Z"}), 422),
    "unknown field on login": BadInput(
        lambda c: c.client.post(
            "/auth/login",
            json={"email": c.target.email, "password": DEFAULT_PASSWORD, "role": "ADMIN"},
        ),
        422,
    ),
    # invalid values
    "invalid email on create": BadInput(_create(email="not-an-email"), 422),
    "invalid email on patch": BadInput(_patch({"email": "two@@example.com"}), 422),
    "invalid email on put": BadInput(
        lambda c: c.client.put(
            c.user_url,
            json={"username": c.target.username, "email": "nope", "fullName": "X"},
            headers=c.admin,
        ),
        422,
    ),
    "unknown role on create": BadInput(_create(role="ROOT"), 422),
    "unknown role on patch": BadInput(_patch({"role": "ROOT"}), 422),
    "username with spaces": BadInput(_create(username="two words"), 422),
    "null fullName on patch": BadInput(_patch({"fullName": None}), 422),
    "empty patch field": BadInput(_patch({"fullName": "   "}), 422),
    "missing password on create": BadInput(_create(password=None), 422),
    # passwords: 8 to 72 UTF-8 bytes, never truncated
    "password under 8 bytes": BadInput(_create(password="short7!"), 422),
    "password over 72 ASCII bytes on create": BadInput(_create(password=LONG_ASCII_PASSWORD), 422),
    "password over 72 UTF-8 bytes on create": BadInput(_create(password=LONG_UTF8_PASSWORD), 422),
    "password over 72 bytes on patch": BadInput(_patch({"password": LONG_ASCII_PASSWORD}), 422),
    "currentPassword without password": BadInput(
        _patch({"currentPassword": DEFAULT_PASSWORD}), 422
    ),
    "password over 72 bytes on login": BadInput(
        lambda c: c.client.post(
            "/auth/login", json={"email": c.target.email, "password": LONG_ASCII_PASSWORD}
        ),
        422,
    ),
    # malformed or unknown ids
    "malformed id on get": BadInput(
        lambda c: c.client.get("/users/not-an-id", headers=c.admin), 404
    ),
    "short hex id on get": BadInput(lambda c: c.client.get("/users/abc123", headers=c.admin), 404),
    "24 non-hex characters on get": BadInput(
        lambda c: c.client.get("/users/zzzzzzzzzzzzzzzzzzzzzzzz", headers=c.admin), 404
    ),
    "malformed id on put": BadInput(
        lambda c: c.client.put(
            "/users/123",
            json={"username": "abc", "email": "a@example.com", "fullName": "A"},
            headers=c.admin,
        ),
        404,
    ),
    "malformed id on patch": BadInput(
        lambda c: c.client.patch("/users/123", json={"fullName": "A"}, headers=c.admin), 404
    ),
    "malformed id on delete": BadInput(
        lambda c: c.client.delete("/users/123", headers=c.admin), 404
    ),
    "malformed id on restore": BadInput(
        lambda c: c.client.post("/users/123/restore", headers=c.admin), 404
    ),
    "unknown id on patch": BadInput(
        lambda c: c.client.patch(f"/users/{ObjectId()}", json={"fullName": "A"}, headers=c.admin),
        404,
    ),
    # bodies over 64 KiB
    "70 KB create": BadInput(_raw("POST", "/users", _oversized_json()), 413),
    "70 KB patch": BadInput(_raw("PATCH", "/users/{id}", _oversized_json()), 413),
    "70 KB login": BadInput(
        lambda c: c.client.post("/auth/login", content=_oversized_json(), headers=JSON), 413
    ),
    "70 KB create, chunked": BadInput(
        lambda c: c.client.post(
            "/users", content=_chunks(_oversized_json()), headers={**c.admin, **JSON}
        ),
        413,
    ),
    # tokens
    "forged token on patch": BadInput(
        lambda c: c.client.patch(
            c.user_url, json={"fullName": "A"}, headers=forged_headers(c.admin)
        ),
        401,
    ),
    "forged token on delete": BadInput(
        lambda c: c.client.delete(c.user_url, headers=forged_headers(c.admin)), 401
    ),
    "expired token on patch": BadInput(
        lambda c: c.client.patch(
            c.user_url, json={"fullName": "A"}, headers=expired_headers(c.admin)
        ),
        401,
    ),
    "expired token on delete": BadInput(
        lambda c: c.client.delete(c.user_url, headers=expired_headers(c.admin)), 401
    ),
    "expired token on create": BadInput(
        lambda c: c.client.post("/users", json=_new_user(), headers=expired_headers(c.admin)), 401
    ),
    # list parameters
    "limit=0": BadInput(_list(limit=0), 422),
    "limit=201": BadInput(_list(limit=201), 422),
    "limit=-1": BadInput(_list(limit=-1), 422),
    "limit=ten": BadInput(_list(limit="ten"), 422),
    "sort=unknown": BadInput(_list(sort="unknown"), 422),
    "sort=passwordHash": BadInput(_list(sort="passwordHash"), 422),
    "sort=-": BadInput(_list(sort="-"), 422),
    "role=ROOT": BadInput(_list(role="ROOT"), 422),
    "isActive=maybe": BadInput(_list(isActive="maybe"), 422),
    "garbage cursor": BadInput(_list(cursor="!!not-a-cursor!!"), 422),
    "base64 of non-JSON cursor": BadInput(
        _list(cursor=base64.urlsafe_b64encode(b"not json").decode()), 422
    ),
    "cursor of a JSON number": BadInput(_list(cursor=list_cursor(7)), 422),
    "cursor without an id": BadInput(_list(cursor=list_cursor({"s": "createdAt", "k": {}})), 422),
    "cursor of another sort": BadInput(
        _list(
            sort="username",
            cursor=list_cursor(
                {"s": "createdAt", "id": str(ObjectId()), "k": {"t": "raw", "v": 1}}
            ),
        ),
        422,
    ),
    "cursor smuggling a query operator": BadInput(
        _list(
            cursor=list_cursor(
                {"s": "createdAt", "id": str(ObjectId()), "k": {"t": "raw", "v": {"$bogus": 1}}}
            )
        ),
        422,
    ),
    "empty cursor": BadInput(_list(cursor=""), 422),
    "empty q": BadInput(_list(q=""), 422),
    # headers
    "If-Match that is no ETag": BadInput(
        lambda c: c.client.patch(
            c.user_url, json={"fullName": "A"}, headers={**c.admin, "If-Match": "yesterday"}
        ),
        412,
    ),
    "Idempotency-Key over 255 characters": BadInput(
        lambda c: c.client.post(
            "/users", json=_new_user(), headers={**c.admin, "Idempotency-Key": "k" * 256}
        ),
        422,
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_given_bad_input_when_sent_then_refused_and_the_users_are_unchanged(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    case: BadInput[Context],
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    target = make_user(db, role=Role.USER)
    context = Context(client, admin, target)
    before = users_state(db)

    response = case.send(context)

    case.assert_refused(response)
    assert users_state(db) == before


@pytest.mark.parametrize(
    "params",
    [{"limit": 1}, {"limit": 200}, {"sort": "-updatedAt"}, {"sort": "username", "q": "u"}],
    ids=["limit=1", "limit=200", "sort=-updatedAt", "sort=username"],
)
def test_given_list_parameters_at_their_bounds_when_listing_then_200(
    client: httpx.Client, user_with_token: UserWithToken, params: dict[str, Any]
) -> None:
    """Control for the list cases above: the bounds themselves are accepted."""
    _, admin = user_with_token(Role.ADMIN)

    response = client.get("/users", params=params, headers=admin)

    assert response.status_code == 200, response.text


def test_given_a_password_of_exactly_72_bytes_when_creating_then_it_is_accepted_and_logs_in(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    """Control for the password cases above: 72 UTF-8 bytes is the limit, not past it."""
    _, admin = user_with_token(Role.ADMIN)
    password = "é" * 36  # 72 bytes

    response = client.post("/users", json=_new_user(password=password), headers=admin)

    assert response.status_code == 201, response.text
    login = client.post("/auth/login", json={"email": "newcomer@example.com", "password": password})
    assert login.status_code == 200, login.text
    truncated = client.post(
        "/auth/login", json={"email": "newcomer@example.com", "password": "é" * 35 + "e"}
    )
    assert truncated.status_code == 401


def test_given_a_body_just_under_64_kib_when_creating_then_it_is_not_refused_as_too_large(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    """Control for the 413 cases: the limit is 64 KiB, so a 60 KB body reaches validation."""
    _, admin = user_with_token(Role.ADMIN)
    body = json.dumps(_new_user(fullName="x" * 60_000)).encode()

    response = client.post("/users", content=body, headers={**admin, **JSON})

    assert_problem(response, 422)  # fullName is too long, which only validation can say


@pytest.mark.parametrize(
    ("size", "too_large"),
    [(64 * 1024, False), (64 * 1024 + 1, True)],
    ids=["exactly 64 KiB", "64 KiB + 1 byte"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["Content-Length", "chunked"])
def test_given_a_body_at_the_64_kib_limit_when_posted_then_413_only_past_it_with_one_problem_type(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    size: int,
    too_large: bool,
    chunked: bool,
) -> None:
    """Whether or not the client announces the size, the limit and the problem are the same."""
    _, admin = user_with_token(Role.ADMIN)
    skeleton = json.dumps(_new_user(fullName="")).encode()
    body = skeleton.replace(
        b'"fullName": ""', b'"fullName": "' + b"x" * (size - len(skeleton)) + b'"'
    )
    assert len(body) == size
    before = users_state(db)

    response = client.post(
        "/users", content=_chunks(body) if chunked else body, headers={**admin, **JSON}
    )

    if too_large:
        problem = assert_problem(response, 413)
        assert problem["type"] == TYPE_BASE + PayloadTooLarge.slug
    else:
        assert_problem(response, 422)  # read in full and validated: fullName is too long
    assert users_state(db) == before
