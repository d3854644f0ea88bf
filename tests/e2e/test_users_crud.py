"""The user directory over HTTP (SPEC §3, §5, §6): create, list, read, replace, patch, delete and
restore for every role, with status codes, problem documents, ETags and the session effects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.conftest import bearer
from tests.e2e.support import assert_problem, stored_user, users_state
from tests.factories import DEFAULT_PASSWORD, make_user
from todo_common.principal import Role
from todo_common.records import User

pytestmark = pytest.mark.e2e

UserWithToken = Callable[..., tuple[User, dict[str, str]]]
Login = Callable[..., dict[str, Any]]
PUBLIC_KEYS = {
    "id",
    "username",
    "email",
    "fullName",
    "role",
    "isActive",
    "version",
    "createdAt",
    "updatedAt",
}
NON_ADMINS = [Role.MANAGER, Role.USER]


def _new_user_body(name: str, role: Role = Role.USER, **extra: Any) -> dict[str, Any]:
    return {
        "username": name,
        "email": f"{name}@Example.com",
        "fullName": f"Full {name}",
        "password": "a-new-password-1",
        "role": role.value,
        **extra,
    }


def _etag(response: httpx.Response) -> str:
    return response.headers["etag"]


def _can_log_in(client: httpx.Client, email: str, password: str = DEFAULT_PASSWORD) -> bool:
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


# -- create ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGER, Role.USER, Role.ADMIN])
def test_given_admin_when_creating_a_user_then_201_with_location_and_etag_that_resolve(
    client: httpx.Client, user_with_token: UserWithToken, role: Role
) -> None:
    _, admin = user_with_token(Role.ADMIN)

    response = client.post(
        "/users", json=_new_user_body(f"new-{role.lower()}", role), headers=admin
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body.keys() == PUBLIC_KEYS
    assert body["email"] == f"new-{role.lower()}@example.com"  # stored lower-case
    assert body["role"] == role.value
    assert body["isActive"] is True
    assert body["version"] == 1
    assert body["createdAt"].endswith("Z")
    assert body["updatedAt"].endswith("Z")
    assert response.headers["location"] == f"/users/{body['id']}"
    assert _etag(response) == '"1"'
    fetched = client.get(response.headers["location"], headers=admin)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == body
    assert _etag(fetched) == '"1"'
    assert _can_log_in(client, body["email"], "a-new-password-1")


@pytest.mark.parametrize("role", NON_ADMINS)
def test_given_non_admin_when_creating_a_user_then_403_and_nothing_created(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, role: Role
) -> None:
    _, headers = user_with_token(role)
    before = users_state(db)

    response = client.post("/users", json=_new_user_body("intruder"), headers=headers)

    assert_problem(response, 403)
    assert users_state(db) == before


@pytest.mark.parametrize(
    "clash",
    [
        {"email": "TAKEN@example.com"},
        {"username": "Taken"},
    ],
    ids=["email", "username"],
)
def test_given_an_existing_user_when_creating_a_duplicate_then_409(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    clash: dict[str, str],
) -> None:
    make_user(db, username="taken", email="taken@example.com")
    _, admin = user_with_token(Role.ADMIN)
    before = users_state(db)

    response = client.post("/users", json={**_new_user_body("fresh"), **clash}, headers=admin)

    assert_problem(response, 409)
    assert users_state(db) == before


@pytest.mark.parametrize(
    "clash", [{"email": "Taken@example.com"}, {"username": "TAKEN"}], ids=["email", "username"]
)
def test_given_an_existing_user_when_patching_into_their_email_or_username_then_409(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    clash: dict[str, str],
) -> None:
    make_user(db, username="taken", email="taken@example.com")
    user, headers = user_with_token(Role.USER)
    before = users_state(db)

    response = client.patch(f"/users/{user.id}", json=clash, headers=headers)

    assert_problem(response, 409)
    assert users_state(db) == before


# -- list ------------------------------------------------------------------------------------


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_given_admin_when_listing_then_everyone_and_each_filter_narrows_it(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    admin_user, admin = user_with_token(Role.ADMIN)
    manager = make_user(db, role=Role.MANAGER, username="grace", full_name="Grace Hopper")
    user = make_user(db, role=Role.USER, username="alan", full_name="Alan Turing")
    gone = make_user(db, role=Role.USER, username="ghost", is_active=False)
    everyone = {admin_user.id, manager.id, user.id, gone.id}

    assert _ids(client.get("/users", headers=admin)) == everyone
    assert _ids(client.get("/users", params={"role": "USER"}, headers=admin)) == {user.id, gone.id}
    assert _ids(client.get("/users", params={"isActive": "false"}, headers=admin)) == {gone.id}
    assert _ids(client.get("/users", params={"isActive": "true"}, headers=admin)) == everyone - {
        gone.id
    }
    # q: case-insensitive prefix of username, email or full name
    assert _ids(client.get("/users", params={"q": "GRA"}, headers=admin)) == {manager.id}
    assert _ids(client.get("/users", params={"q": "Alan T"}, headers=admin)) == {user.id}
    assert _ids(client.get("/users", params={"q": "ghost@"}, headers=admin)) == {gone.id}
    both = {"role": "USER", "isActive": "true", "q": "a"}
    assert _ids(client.get("/users", params=both, headers=admin)) == {user.id}


@pytest.mark.parametrize("sort", ["createdAt", "-createdAt", "updatedAt", "username", "-username"])
def test_given_more_users_than_a_page_when_following_next_cursor_then_each_user_once_in_order(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, sort: str
) -> None:
    admin_user, admin = user_with_token(Role.ADMIN)
    created = [make_user(db, username=f"page{n}") for n in (3, 1, 4, 0, 2)]

    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/users", params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page.keys() == {"items", "nextCursor"}
        assert len(page["items"]) <= 2
        items += page["items"]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"

    assert pages == 3
    ids = [item["id"] for item in items]
    assert sorted(ids) == sorted(u.id for u in [admin_user, *created])
    field = sort.removeprefix("-")
    values = [item[field] if field == "username" else _instant(item[field]) for item in items]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_given_filters_when_paging_then_the_cursor_keeps_the_filters(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    wanted = {make_user(db, username=f"match{n}").id for n in range(3)}
    make_user(db, username="match-manager", role=Role.MANAGER)
    make_user(db, username="match-gone", is_active=False)
    make_user(db, username="other")
    params: dict[str, Any] = {"role": "USER", "isActive": "true", "q": "match", "limit": 2}

    first = client.get("/users", params=params, headers=admin)
    assert first.status_code == 200, first.text
    cursor = first.json()["nextCursor"]
    assert cursor
    second = client.get("/users", params={**params, "cursor": cursor}, headers=admin)

    assert second.status_code == 200, second.text
    assert second.json()["nextCursor"] is None
    assert _ids(first) | _ids(second) == wanted
    assert not _ids(first) & _ids(second)


def test_given_manager_when_listing_then_active_users_only_and_inactive_filter_is_403(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    manager, headers = user_with_token(Role.MANAGER)
    active = make_user(db)
    admin = make_user(db, role=Role.ADMIN)
    gone = make_user(db, is_active=False)

    assert _ids(client.get("/users", headers=headers)) == {manager.id, active.id, admin.id}
    assert _ids(client.get("/users", params={"isActive": "true"}, headers=headers)) == {
        manager.id,
        active.id,
        admin.id,
    }
    assert gone.id not in _ids(client.get("/users", params={"q": "user"}, headers=headers))
    assert_problem(client.get("/users", params={"isActive": "false"}, headers=headers), 403)


def test_given_user_when_listing_then_403(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    _, headers = user_with_token(Role.USER)

    assert_problem(client.get("/users", headers=headers), 403)


# -- read ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_given_any_role_when_reading_own_record_then_200_with_etag(
    client: httpx.Client, user_with_token: UserWithToken, role: Role
) -> None:
    user, headers = user_with_token(role)

    response = client.get(f"/users/{user.id}", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user.id
    assert _etag(response) == f'"{user.version}"'


@pytest.mark.parametrize("role", NON_ADMINS)
def test_given_non_admin_when_reading_someone_else_then_403_without_their_data(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, role: Role
) -> None:
    _, headers = user_with_token(role)
    other = make_user(db, full_name="Secret Person")

    response = client.get(f"/users/{other.id}", headers=headers)

    assert_problem(response, 403)
    assert "Secret Person" not in response.text


def test_given_admin_when_reading_someone_else_then_200_and_unknown_id_is_404(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    other = make_user(db, role=Role.MANAGER)

    response = client.get(f"/users/{other.id}", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "MANAGER"
    assert_problem(client.get(f"/users/{ObjectId()}", headers=admin), 404)


# -- replace and patch -----------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_given_own_record_when_put_then_username_email_full_name_replaced_and_version_plus_one(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, role: Role
) -> None:
    user, headers = user_with_token(role)
    replacement = {"username": "renamed", "email": "Renamed@Example.com", "fullName": "Re Named"}

    response = client.put(f"/users/{user.id}", json=replacement, headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["username"], body["email"], body["fullName"]) == (
        "renamed",
        "renamed@example.com",
        "Re Named",
    )
    assert (body["role"], body["isActive"]) == (role.value, True)
    assert body["version"] == user.version + 1
    assert _etag(response) == f'"{user.version + 1}"'
    stored = stored_user(db, user.id)
    assert (stored["username"], stored["email"], stored["fullName"], stored["version"]) == (
        "renamed",
        "renamed@example.com",
        "Re Named",
        user.version + 1,
    )


def test_given_put_without_every_replaced_field_when_sent_then_422_and_nothing_changed(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    user, headers = user_with_token(Role.USER)
    before = users_state(db)

    response = client.put(f"/users/{user.id}", json={"fullName": "Only This"}, headers=headers)

    body = assert_problem(response, 422)
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "username"), ("body", "email")}
    assert users_state(db) == before


def test_given_own_record_when_patching_one_field_then_only_it_changes_and_version_grows_by_one(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    user, headers = user_with_token(Role.USER)
    before = stored_user(db, user.id)

    first = client.patch(f"/users/{user.id}", json={"fullName": "First Change"}, headers=headers)
    second = client.patch(f"/users/{user.id}", json={"username": "second"}, headers=headers)

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["version"] == before["version"] + 1
    assert second.json()["version"] == before["version"] + 2
    assert _etag(second) == f'"{before["version"] + 2}"'
    after = stored_user(db, user.id)
    assert after["fullName"] == "First Change"
    assert after["username"] == "second"
    for field in ("email", "role", "isActive", "passwordHash", "createdAt"):
        assert after[field] == before[field], field
    assert after["updatedAt"] >= before["updatedAt"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/users/{id}", "replacement"),
        ("PATCH", "/users/{id}", {"fullName": "Late"}),
        ("DELETE", "/users/{id}", None),
        ("POST", "/users/{id}/restore", None),
    ],
)
def test_given_a_stale_if_match_when_writing_then_412_and_nothing_changed(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    method: str,
    path: str,
    body: Any,
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    target = make_user(db, is_active=not path.endswith("restore"))
    changed = client.patch(f"/users/{target.id}", json={"fullName": "Someone Else"}, headers=admin)
    assert changed.status_code == 200, changed.text
    if body == "replacement":
        body = {"username": target.username, "email": target.email, "fullName": "Late"}
    before = users_state(db)
    url = path.format(id=target.id)

    stale = client.request(
        method, url, json=body, headers={**admin, "If-Match": f'"{target.version}"'}
    )

    assert_problem(stale, 412)
    assert users_state(db) == before
    fresh = client.request(method, url, json=body, headers={**admin, "If-Match": _etag(changed)})
    assert fresh.status_code in (200, 204), fresh.text


@pytest.mark.parametrize("role", NON_ADMINS)
@pytest.mark.parametrize(
    "change", [{"role": "ADMIN"}, {"isActive": False}], ids=["role", "isActive"]
)
def test_given_non_admin_when_changing_own_role_or_is_active_then_403_and_nothing_changed(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    role: Role,
    change: dict[str, Any],
) -> None:
    user, headers = user_with_token(role)
    before = users_state(db)

    patched = client.patch(f"/users/{user.id}", json={"fullName": "X", **change}, headers=headers)
    replaced = client.put(
        f"/users/{user.id}",
        json={"username": user.username, "email": user.email, "fullName": "X", **change},
        headers=headers,
    )

    assert_problem(patched, 403)
    assert_problem(replaced, 403)
    assert users_state(db) == before
    assert client.get("/users/me", headers=headers).status_code == 200


@pytest.mark.parametrize("role", NON_ADMINS)
def test_given_non_admin_when_patching_someone_else_then_403_and_nothing_changed(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, role: Role
) -> None:
    _, headers = user_with_token(role)
    other = make_user(db)
    before = users_state(db)

    patched = client.patch(f"/users/{other.id}", json={"fullName": "Hacked"}, headers=headers)
    replaced = client.put(
        f"/users/{other.id}",
        json={"username": other.username, "email": other.email, "fullName": "Hacked"},
        headers=headers,
    )
    deleted = client.delete(f"/users/{other.id}", headers=headers)

    for response in (patched, replaced, deleted):
        assert_problem(response, 403)
    assert users_state(db) == before


# -- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NON_ADMINS)
def test_given_own_password_change_when_current_password_is_missing_or_wrong_then_422_or_403(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, role: Role
) -> None:
    user, headers = user_with_token(role)
    before = users_state(db)

    missing = client.patch(
        f"/users/{user.id}", json={"password": "brand-new-secret"}, headers=headers
    )
    wrong = client.patch(
        f"/users/{user.id}",
        json={"password": "brand-new-secret", "currentPassword": "not-my-password"},
        headers=headers,
    )

    body = assert_problem(missing, 422)
    assert ["body", "currentPassword"] in [e["loc"] for e in body["errors"]]
    assert_problem(wrong, 403)
    assert users_state(db) == before
    assert _can_log_in(client, user.email)


@pytest.mark.parametrize("role", NON_ADMINS)
def test_given_own_password_change_with_current_password_then_the_new_one_logs_in(
    client: httpx.Client, user_with_token: UserWithToken, role: Role
) -> None:
    user, headers = user_with_token(role)

    response = client.patch(
        f"/users/{user.id}",
        json={"password": "brand-new-secret", "currentPassword": DEFAULT_PASSWORD},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert "passwordHash" not in response.text
    assert response.json()["version"] == user.version + 1
    assert _can_log_in(client, user.email, "brand-new-secret")
    assert not _can_log_in(client, user.email, DEFAULT_PASSWORD)


def test_given_admin_when_resetting_someone_elses_password_then_no_current_password_needed(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    user = make_user(db)

    response = client.patch(f"/users/{user.id}", json={"password": "reset-by-admin"}, headers=admin)

    assert response.status_code == 200, response.text
    assert _can_log_in(client, user.email, "reset-by-admin")
    assert not _can_log_in(client, user.email, DEFAULT_PASSWORD)


def test_given_a_password_with_outer_spaces_when_created_then_it_is_kept_exactly_as_typed(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    body = _new_user_body("spacey", password="  spaced out  ")

    response = client.post("/users", json=body, headers=admin)

    assert response.status_code == 201, response.text
    assert _can_log_in(client, "spacey@example.com", "  spaced out  ")
    assert not _can_log_in(client, "spacey@example.com", "spaced out")


# -- session effects of role changes and deactivation ----------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/users/{id}", {"role": "MANAGER"}),
        ("PATCH", "/users/{id}", {"isActive": False}),
        ("DELETE", "/users/{id}", None),
    ],
    ids=["role change", "deactivation", "delete"],
)
def test_given_a_logged_in_user_when_admin_changes_role_or_deactivates_then_their_token_is_401(
    client: httpx.Client,
    user_with_token: UserWithToken,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    user, headers = user_with_token(Role.USER)
    assert client.get("/users/me", headers=headers).status_code == 200  # warms the edge cache

    response = client.request(method, path.format(id=user.id), json=body, headers=admin)

    assert response.status_code in (200, 204), response.text
    assert_problem(client.get("/users/me", headers=headers), 401)
    assert_problem(client.get(f"/users/{user.id}", headers=headers), 401)


def test_given_admin_when_editing_a_name_then_the_users_session_survives(
    client: httpx.Client, user_with_token: UserWithToken
) -> None:
    """Control for the test above: only role, activity (and password) changes end sessions."""
    _, admin = user_with_token(Role.ADMIN)
    user, headers = user_with_token(Role.USER)

    response = client.patch(f"/users/{user.id}", json={"fullName": "New Name"}, headers=admin)

    assert response.status_code == 200, response.text
    assert client.get("/users/me", headers=headers).status_code == 200


# -- delete and restore ----------------------------------------------------------------------


def test_given_admin_when_deleting_a_user_then_204_hidden_from_others_and_restorable(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    _, manager = user_with_token(Role.MANAGER)
    _, other_user = user_with_token(Role.USER)
    user = make_user(db, username="leaver")

    deleted = client.delete(f"/users/{user.id}", headers=admin)

    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    stored = stored_user(db, user.id)
    assert stored["isActive"] is False  # a soft delete: still stored
    assert stored["version"] == user.version + 1
    assert not _can_log_in(client, user.email)
    # ADMIN still sees it, through isActive=false and by id
    assert user.id in _ids(client.get("/users", params={"isActive": "false"}, headers=admin))
    by_id = client.get(f"/users/{user.id}", headers=admin)
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["isActive"] is False
    # nobody else does
    assert user.id not in _ids(client.get("/users", params={"q": "leaver"}, headers=manager))
    for headers in (manager, other_user):
        hidden = client.get(f"/users/{user.id}", headers=headers)
        assert hidden.status_code in (403, 404), hidden.text
        assert "leaver" not in hidden.text

    for headers in (manager, other_user):
        assert_problem(client.post(f"/users/{user.id}/restore", headers=headers), 403)
    restored = client.post(f"/users/{user.id}/restore", headers=admin)

    assert restored.status_code == 200, restored.text
    assert restored.json()["isActive"] is True
    assert restored.json()["version"] == user.version + 2
    assert _etag(restored) == f'"{user.version + 2}"'
    assert _can_log_in(client, user.email)
    assert user.id in _ids(client.get("/users", params={"q": "leaver"}, headers=manager))


@pytest.mark.parametrize("role", NON_ADMINS)
def test_given_non_admin_when_deleting_own_record_then_204_and_logged_out(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken, role: Role
) -> None:
    user, headers = user_with_token(role)

    response = client.delete(f"/users/{user.id}", headers=headers)

    assert response.status_code == 204, response.text
    assert stored_user(db, user.id)["isActive"] is False
    assert_problem(client.get("/users/me", headers=headers), 401)
    assert not _can_log_in(client, user.email)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/users/{id}", None),
        ("PATCH", "/users/{id}", {"role": "MANAGER"}),
        ("PATCH", "/users/{id}", {"isActive": False}),
        ("PUT", "/users/{id}", "demotion"),
    ],
    ids=["delete", "demote", "deactivate", "demote by PUT"],
)
def test_given_the_last_active_admin_when_deleted_or_demoted_then_409_and_nothing_changed(
    client: httpx.Client,
    db: Database[dict[str, Any]],
    user_with_token: UserWithToken,
    method: str,
    path: str,
    body: Any,
) -> None:
    admin, headers = user_with_token(Role.ADMIN)
    make_user(db, role=Role.ADMIN, is_active=False)  # an inactive ADMIN does not count
    if body == "demotion":
        body = {"username": admin.username, "email": admin.email, "fullName": "X", "role": "USER"}
    before = users_state(db)

    response = client.request(method, path.format(id=admin.id), json=body, headers=headers)

    assert_problem(response, 409)
    assert users_state(db) == before
    assert client.get("/users/me", headers=headers).status_code == 200


def test_given_two_active_admins_when_one_demotes_the_other_then_200(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """Control for the test above: the rule is about the last ADMIN, not about ADMINs."""
    _, headers = user_with_token(Role.ADMIN)
    other = make_user(db, role=Role.ADMIN)

    response = client.patch(f"/users/{other.id}", json={"role": "MANAGER"}, headers=headers)

    assert response.status_code == 200, response.text
    assert stored_user(db, other.id)["role"] == "MANAGER"


# -- Idempotency-Key -------------------------------------------------------------------------


def test_given_an_idempotency_key_when_the_create_is_retried_then_replayed_and_nothing_created(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    headers = {**admin, "Idempotency-Key": "create-ada-1"}
    body = _new_user_body("ada")

    first = client.post("/users", json=body, headers=headers)
    count = db["users"].count_documents({})
    retry = client.post("/users", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert db["users"].count_documents({}) == count
    assert db["users"].count_documents({"username": "ada"}) == 1


def test_given_a_used_idempotency_key_when_sent_with_another_body_then_422_and_nothing_created(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    headers = {**admin, "Idempotency-Key": "create-once"}
    assert client.post("/users", json=_new_user_body("first"), headers=headers).status_code == 201
    before = users_state(db)

    response = client.post("/users", json=_new_user_body("second"), headers=headers)

    body = assert_problem(response, 422)
    assert ["header", "Idempotency-Key"] in [e["loc"] for e in body["errors"]]
    assert users_state(db) == before


def test_given_another_callers_idempotency_key_when_reused_then_it_is_a_new_request(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """Keys are scoped to the caller: one ADMIN's key neither replays nor blocks another's."""
    _, first_admin = user_with_token(Role.ADMIN)
    _, second_admin = user_with_token(Role.ADMIN)
    key = {"Idempotency-Key": "shared-key"}
    first = client.post("/users", json=_new_user_body("one"), headers={**first_admin, **key})
    assert first.status_code == 201, first.text

    response = client.post("/users", json=_new_user_body("two"), headers={**second_admin, **key})

    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    assert response.json()["username"] == "two"


def test_given_a_failed_create_when_retried_with_the_same_key_then_it_runs_again(
    client: httpx.Client, db: Database[dict[str, Any]], user_with_token: UserWithToken
) -> None:
    """Only successes are stored: a 409 is not replayed once the conflict is gone."""
    _, admin = user_with_token(Role.ADMIN)
    taken = make_user(db, username="wanted")
    headers = {**admin, "Idempotency-Key": "retry-after-conflict"}
    body = _new_user_body("wanted")
    assert_problem(client.post("/users", json=body, headers=headers), 409)
    db["users"].delete_one({"_id": ObjectId(taken.id)})

    response = client.post("/users", json=body, headers=headers)

    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers


# -- request ids ---------------------------------------------------------------------------


def test_given_no_request_id_when_an_error_is_answered_then_one_is_generated_and_returned(
    api: httpx.Client, user_with_token: UserWithToken
) -> None:
    _, headers = user_with_token(Role.USER)

    response = api.get(f"/users/{ObjectId()}", headers=headers)

    body = assert_problem(response, 403)
    assert body["requestId"] == response.headers["x-request-id"]
    assert len(body["requestId"]) >= 8


def test_given_a_request_id_when_the_request_succeeds_then_it_is_echoed_too(
    client: httpx.Client, login: Login, db: Database[dict[str, Any]]
) -> None:
    tokens = login(make_user(db).email)

    response = client.get(
        "/users/me", headers={**bearer(tokens["access_token"]), "X-Request-Id": "trace-123"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "trace-123"
