"""Conditional reads (issue 21): a client that holds the current version of a record asks with
`If-None-Match` and gets `304 Not Modified`, no body; once the record changes it gets `200` and
the new body. Over HTTP through the gateway, for every single-record GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pymongo.database import Database

from tests.factories import make_project, make_task
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
Db = Database[dict[str, Any]]


def _records(
    db: Db, user_with_token: UserWithToken
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """An ADMIN's headers, and for one record of each kind: where it is read, where it is
    changed and a field to change."""
    admin, as_admin = user_with_token(Role.ADMIN)
    member, _ = user_with_token(Role.USER)
    project = make_project(db, admin)
    task = make_task(db, project)
    return as_admin, [
        (f"/users/{member.id}", f"/users/{member.id}", "fullName"),
        ("/users/me", f"/users/{admin.id}", "fullName"),
        (f"/projects/{project.id}", f"/projects/{project.id}", "description"),
        (f"/tasks/{task.id}", f"/tasks/{task.id}", "description"),
    ]


@pytest.mark.parametrize("which", [0, 1, 2, 3], ids=["user", "me", "project", "task"])
def test_given_the_current_etag_when_read_again_then_304_without_a_body(
    api: httpx.Client, db: Db, user_with_token: UserWithToken, which: int
) -> None:
    headers, records = _records(db, user_with_token)
    path, _, _ = records[which]
    first = api.get(path, headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "private, no-cache"

    again = api.get(path, headers={**headers, "If-None-Match": first.headers["etag"]})

    assert again.status_code == 304, again.text
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "private, no-cache"
    assert "x-request-id" in again.headers
    # A list of tags, weak or strong, matches when one of them is current; so does `*`.
    for held in (f'"0", W/{first.headers["etag"]}', "*"):
        assert api.get(path, headers={**headers, "If-None-Match": held}).status_code == 304


@pytest.mark.parametrize("which", [0, 1, 2, 3], ids=["user", "me", "project", "task"])
def test_given_a_stale_etag_when_read_then_200_with_the_new_body_and_etag(
    api: httpx.Client, db: Db, user_with_token: UserWithToken, which: int
) -> None:
    headers, records = _records(db, user_with_token)
    path, changed_at, field = records[which]
    held = api.get(path, headers=headers)
    changed = api.patch(changed_at, json={field: "changed since"}, headers=headers)
    assert changed.status_code == 200, changed.text

    response = api.get(path, headers={**headers, "If-None-Match": held.headers["etag"]})

    assert response.status_code == 200, response.text
    assert response.json()[field] == "changed since"
    assert response.headers["etag"] == changed.headers["etag"] != held.headers["etag"]


def test_a_conditional_read_still_checks_who_asks(
    api: httpx.Client, db: Db, user_with_token: UserWithToken
) -> None:
    """A 304 says nothing a 403 or 404 would not: the rules run before the version is compared."""
    headers, records = _records(db, user_with_token)
    path, _, _ = records[0]
    tag = api.get(path, headers=headers).headers["etag"]
    _, as_other = user_with_token(Role.USER)

    assert api.get(path, headers={**as_other, "If-None-Match": tag}).status_code == 403
    assert api.get(path, headers={"If-None-Match": tag}).status_code == 401
