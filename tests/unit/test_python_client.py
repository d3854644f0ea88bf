"""The typed Python client (clients/python/): generated from the committed document, and its
hand-written session's behaviour against a scripted server (the end-to-end suite runs it against
the real one, tests/e2e/test_python_client.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from devtools.client import differences, generate
from todo_api_client.api.projects import create_project, get_project, patch_project
from todo_api_client.api.tasks import list_tasks
from todo_api_client.api.users import me
from todo_api_client.models import ProjectCreate, ProjectPatch
from todo_api_client.session import ApiError, Session

PROJECT = {
    "id": "a" * 24,
    "name": "Launch",
    "description": None,
    "ownerId": "b" * 24,
    "isActive": True,
    "createdAt": "2026-12-01T10:00:00Z",
    "updatedAt": "2026-12-01T10:00:00Z",
    "version": 1,
}
ME = {
    "id": "b" * 24,
    "username": "lead",
    "email": "lead@example.com",
    "fullName": "Team Lead",
    "role": "MANAGER",
    "isActive": True,
    "createdAt": "2026-12-01T10:00:00Z",
    "updatedAt": "2026-12-01T10:00:00Z",
    "version": 1,
}


def _problem(status: int, detail: str) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": "Problem",
        "status": status,
        "detail": detail,
        "instance": "/",
        "requestId": "r-1",
    }


def _tokens(n: int) -> dict[str, object]:
    return {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": 900}


class Server:
    """A scripted API: `routes` maps "METHOD /path" to a function of the request."""

    def __init__(
        self, routes: dict[str, Callable[[httpx.Request], httpx.Response]], base: str = ""
    ) -> None:
        self.routes = routes
        self.base = base  # the path the API is mounted at, as behind a custom domain's mapping
        self.requests: list[httpx.Request] = []
        self.slept: list[float] = []
        self.closed = False
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        # A copy: the client sends the same request object again, with other headers.
        sent = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.read()
        )
        with self._lock:
            self.requests.append(sent)
        route = request.url.path.removeprefix(self.base)
        return self.routes[f"{request.method} {route}"](request)

    def sent(self, route: str) -> list[httpx.Request]:
        method, _, path = route.partition(" ")
        return [r for r in self.requests if (r.method, r.url.path) == (method, self.base + path)]

    def session(self, **options: object) -> Session:
        self.routes.setdefault("POST /auth/login", lambda _: httpx.Response(200, json=_tokens(1)))
        return Session.login(
            f"http://api.test{self.base}",
            "lead@example.com",
            "secret",
            transport=self._transport(),
            sleep=self.slept.append,
            **options,
        )

    def token_session(self, token: str, **options: object) -> Session:
        """A session with a personal access token, as a CI job opens one."""
        return Session.with_token(
            f"http://api.test{self.base}",
            token,
            transport=self._transport(),
            sleep=self.slept.append,
            **options,
        )

    def _transport(self) -> httpx.MockTransport:
        server = self

        class Transport(httpx.MockTransport):
            def close(self) -> None:
                server.closed = True

        return Transport(self.handle)


def test_the_committed_client_is_what_the_document_generates(tmp_path: Path) -> None:
    assert differences(generate(tmp_path)) == [], "clients/python is stale: run `make client`"


def test_a_401_refreshes_the_token_once_and_resends_the_request() -> None:
    def me_route(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer access-2":
            return httpx.Response(200, json=ME)
        return httpx.Response(401, json=_problem(401, "expired"))

    server = Server(
        {
            "GET /users/me": me_route,
            "POST /auth/refresh": lambda _: httpx.Response(200, json=_tokens(2)),
        }
    )
    with server.session() as api:
        assert api.call(me.sync_detailed).email == "lead@example.com"
        assert api.call(me.sync_detailed).email == "lead@example.com"

    refreshes = server.sent("POST /auth/refresh")
    assert [json.loads(r.content) for r in refreshes] == [{"refresh_token": "refresh-1"}]
    assert [r.headers["Authorization"] for r in server.sent("GET /users/me")] == [
        "Bearer access-1",
        "Bearer access-2",
        "Bearer access-2",
    ]


def test_requests_failing_together_with_401_share_one_refresh() -> None:
    """A refresh token is single-use (reuse revokes the session): one refresh for all of them."""
    gate = threading.Barrier(4)

    def me_route(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer access-2":
            return httpx.Response(200, json=ME)
        gate.wait(timeout=5)  # all four hold the old token before any refreshes
        return httpx.Response(401, json=_problem(401, "expired"))

    server = Server(
        {
            "GET /users/me": me_route,
            "POST /auth/refresh": lambda _: httpx.Response(200, json=_tokens(2)),
        }
    )
    with server.session() as api:
        results: list[str] = []
        threads = [
            threading.Thread(target=lambda: results.append(api.call(me.sync_detailed).email))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == ["lead@example.com"] * 4
    assert len(server.sent("POST /auth/refresh")) == 1


def test_a_refused_refresh_is_an_api_error_and_nothing_is_resent() -> None:
    server = Server(
        {
            "GET /users/me": lambda _: httpx.Response(401, json=_problem(401, "revoked")),
            "POST /auth/refresh": lambda _: httpx.Response(
                401, json=_problem(401, "session ended")
            ),
        }
    )
    with server.session() as api, pytest.raises(ApiError) as raised:
        api.call(me.sync_detailed)
    assert raised.value.status == 401
    assert raised.value.problem is not None
    assert raised.value.problem.detail == "session ended"
    assert len(server.sent("GET /users/me")) == 1


def test_a_create_carries_an_idempotency_key_kept_across_retries_after_a_503() -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "2"}, json=_problem(503, "down")),
            httpx.Response(503, headers={"Retry-After": "1"}, json=_problem(503, "down")),
            httpx.Response(201, json=PROJECT),
        ]
    )
    server = Server({"POST /projects": lambda _: next(answers)})
    with server.session() as api:
        project = api.call(create_project.sync_detailed, body=ProjectCreate(name="Launch"))

    assert project.id == PROJECT["id"]
    keys = {r.headers["Idempotency-Key"] for r in server.sent("POST /projects")}
    assert len(server.sent("POST /projects")) == 3
    assert len(keys) == 1
    assert server.slept == [2.0, 1.0]


def test_the_callers_idempotency_key_is_kept_and_two_creates_get_two_keys() -> None:
    server = Server({"POST /projects": lambda _: httpx.Response(201, json=PROJECT)})
    with server.session() as api:
        body = ProjectCreate(name="Launch")
        api.call(create_project.sync_detailed, body=body, idempotency_key="mine")
        api.call(create_project.sync_detailed, body=body)
        api.call(create_project.sync_detailed, body=body)
    keys = [r.headers["Idempotency-Key"] for r in server.sent("POST /projects")]
    assert keys[0] == "mine"
    assert len(set(keys)) == 3
    assert "Idempotency-Key" not in server.sent("POST /auth/login")[0].headers


def test_a_wait_longer_than_allowed_is_returned_to_the_caller_not_slept() -> None:
    server = Server(
        {
            "GET /projects/" + "a" * 24: lambda _: httpx.Response(
                429, headers={"Retry-After": "900"}, json=_problem(429, "slow down")
            )
        }
    )
    with server.session(max_wait=30) as api, pytest.raises(ApiError) as raised:
        api.call(get_project.sync_detailed, project_id="a" * 24)
    assert raised.value.status == 429
    assert server.slept == []
    assert len(server.requests) == 2  # the login, and the request once


def test_retries_stop_after_the_allowed_number() -> None:
    server = Server(
        {
            "GET /users/me": lambda _: httpx.Response(
                503, headers={"Retry-After": "1"}, json=_problem(503, "down")
            )
        }
    )
    with server.session(retries=2) as api, pytest.raises(ApiError) as raised:
        api.call(me.sync_detailed)
    assert raised.value.status == 503
    assert len(server.sent("GET /users/me")) == 3
    assert server.slept == [1.0, 1.0]


def test_pages_follow_the_cursor_to_the_end() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        task = {
            "id": "c" * 24,
            "projectId": "a" * 24,
            "description": f"after {cursor}",
            "assignedTo": None,
            "status": "PENDING",
            "dueDate": None,
            "completedAt": None,
            "createdBy": "b" * 24,
            "isActive": True,
            "createdAt": "2026-12-01T10:00:00Z",
            "updatedAt": "2026-12-01T10:00:00Z",
            "version": 1,
        }
        following = {None: "one", "one": "two", "two": None}[cursor]
        return httpx.Response(200, json={"items": [task, task], "nextCursor": following})

    server = Server({"GET /tasks": page})
    with server.session() as api:
        tasks = list(api.pages(list_tasks.sync_detailed, project_id="a" * 24, limit=2))
    assert [t.description for t in tasks] == [
        "after None",
        "after None",
        "after one",
        "after one",
        "after two",
        "after two",
    ]
    assert all(r.url.params["projectId"] == "a" * 24 for r in server.sent("GET /tasks"))


def _unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": "1"}, json=_problem(503, "down"))


def test_an_update_answered_503_goes_back_to_the_caller_not_sent_again() -> None:
    """The change may be stored before the 503: sent again, it would meet a 412 for its own
    If-Match and tell the caller the wrong story."""
    server = Server({"PATCH /projects/" + "a" * 24: _unavailable})
    with server.session() as api, pytest.raises(ApiError) as raised:
        api.call(
            patch_project.sync_detailed,
            project_id="a" * 24,
            body=ProjectPatch(name="Renamed"),
            if_match='"1"',
        )
    assert raised.value.status == 503
    assert len(server.sent("PATCH /projects/" + "a" * 24)) == 1
    assert server.slept == []


def test_an_update_answered_429_is_sent_again_it_was_never_run() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}, json=_problem(429, "slow down")),
            httpx.Response(200, json=PROJECT),
        ]
    )
    server = Server({"PATCH /projects/" + "a" * 24: lambda _: next(answers)})
    with server.session() as api:
        project = api.call(
            patch_project.sync_detailed, project_id="a" * 24, body=ProjectPatch(name="Renamed")
        )
    assert project.name == "Launch"
    assert server.slept == [3.0]


def test_a_refresh_answered_503_is_not_sent_again_and_the_caller_sees_it() -> None:
    """A refresh token is single-use: resent after a rotation that did happen, it would be a
    reuse and end the session."""
    server = Server(
        {
            "GET /users/me": lambda _: httpx.Response(401, json=_problem(401, "expired")),
            "POST /auth/refresh": _unavailable,
        }
    )
    with server.session() as api, pytest.raises(ApiError) as raised:
        api.call(me.sync_detailed)
    assert raised.value.status == 503
    assert len(server.sent("POST /auth/refresh")) == 1
    assert server.slept == []


def test_a_retry_after_given_as_a_date_is_waited_for() -> None:
    later = datetime.now(UTC) + timedelta(seconds=20)
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": format_datetime(later, usegmt=True)}),
            httpx.Response(200, json=ME),
        ]
    )
    server = Server({"GET /users/me": lambda _: next(answers)})
    with server.session() as api:
        api.call(me.sync_detailed)
    (slept,) = server.slept
    assert 15 < slept <= 20


def test_an_api_behind_a_path_gets_its_keys_and_its_refreshes_right() -> None:
    def me_route(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer access-2":
            return httpx.Response(200, json=ME)
        return httpx.Response(401, json=_problem(401, "expired"))

    server = Server(
        {
            "GET /users/me": me_route,
            "POST /auth/refresh": lambda _: httpx.Response(200, json=_tokens(2)),
            "POST /projects": lambda _: httpx.Response(201, json=PROJECT),
        },
        base="/v1",
    )
    with server.session() as api:
        api.call(create_project.sync_detailed, body=ProjectCreate(name="Launch"))
        assert api.call(me.sync_detailed).email == "lead@example.com"
    assert "Idempotency-Key" in server.sent("POST /projects")[0].headers
    assert len(server.sent("POST /auth/refresh")) == 1


def test_a_refused_login_leaves_nothing_open() -> None:
    server = Server(
        {"POST /auth/login": lambda _: httpx.Response(401, json=_problem(401, "wrong password"))}
    )
    with pytest.raises(ApiError) as raised:
        server.session()
    assert raised.value.status == 401
    assert server.closed


def _versioned(record: dict[str, object], held: dict[str, str]) -> Callable[..., httpx.Response]:
    """A record's GET that answers 304 while the client names its current ETag."""

    def route(request: httpx.Request) -> httpx.Response:
        tag = f'"{record["version"]}"'
        if request.headers.get("If-None-Match") == tag:
            held["asked"] = tag
            return httpx.Response(304, headers={"ETag": tag})
        return httpx.Response(200, json=record, headers={"ETag": tag})

    return route


def test_a_record_read_again_is_asked_for_with_its_etag_and_a_304_gives_the_kept_copy() -> None:
    held: dict[str, str] = {}
    record: dict[str, object] = dict(PROJECT)
    path = f"/projects/{PROJECT['id']}"
    server = Server({f"GET {path}": _versioned(record, held)})
    with server.session() as api:
        first = api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))
        again = api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))
        record.update(version=2, name="Renamed")  # changed by someone else
        changed = api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))

    assert [r.headers.get("If-None-Match") for r in server.sent(f"GET {path}")] == [
        None,
        '"1"',
        '"1"',
    ]
    assert held["asked"] == '"1"'
    assert again == first
    assert again.name == "Launch"
    assert (changed.version, changed.name) == (2, "Renamed")


def test_a_write_to_a_record_drops_the_kept_copy() -> None:
    held: dict[str, str] = {}
    path = f"/projects/{PROJECT['id']}"
    server = Server(
        {
            f"GET {path}": _versioned(dict(PROJECT), held),
            f"PATCH {path}": lambda _: httpx.Response(200, json=PROJECT, headers={"ETag": '"1"'}),
        }
    )
    with server.session() as api:
        api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))
        api.call(patch_project.sync_detailed, project_id=str(PROJECT["id"]), body=ProjectPatch())
        api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))

    assert [r.headers.get("If-None-Match") for r in server.sent(f"GET {path}")] == [None, None]


def test_the_kept_copies_are_bounded() -> None:
    held: dict[str, str] = {}
    routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
    ids = [f"{n:024x}" for n in range(3)]
    for record_id in ids:
        routes[f"GET /projects/{record_id}"] = _versioned({**PROJECT, "id": record_id}, held)
    server = Server(routes)
    with server.session(cache_size=2) as api:
        for record_id in [*ids, ids[0]]:
            api.call(get_project.sync_detailed, project_id=record_id)

    # The oldest copy made room for the third: the fourth read of it asks without a tag.
    assert server.sent(f"GET /projects/{ids[0]}")[-1].headers.get("If-None-Match") is None


# -- personal access tokens (issue 21.1) ---------------------------------------------------------

PAT = "todo_pat_" + "x" * 43


def test_a_token_session_sends_the_token_with_every_request_and_never_logs_in() -> None:
    server = Server({"GET /users/me": lambda _: httpx.Response(200, json=ME)})

    with server.token_session(PAT) as api:
        assert api.call(me.sync_detailed).email == "lead@example.com"

    assert [r.headers["Authorization"] for r in server.requests] == [f"Bearer {PAT}"]
    assert server.sent("POST /auth/login") == []
    assert server.closed


def test_a_revoked_tokens_401_goes_back_to_the_caller_without_a_refresh() -> None:
    server = Server({"GET /users/me": lambda _: httpx.Response(401, json=_problem(401, "revoked"))})

    with server.token_session(PAT) as api, pytest.raises(ApiError) as refused:
        api.call(me.sync_detailed)

    assert refused.value.status == 401
    assert [r.url.path for r in server.requests] == ["/users/me"]  # sent once, no refresh


def test_a_token_sessions_429_is_waited_for_and_sent_again() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}, json=_problem(429, "later")),
            httpx.Response(200, json=ME),
        ]
    )
    server = Server({"GET /users/me": lambda _: next(answers)})

    with server.token_session(PAT) as api:
        assert api.call(me.sync_detailed).email == "lead@example.com"

    assert server.slept == [2.0]
    assert len(server.sent("GET /users/me")) == 2


def test_a_token_session_keeps_records_and_revalidates_them_with_their_etag() -> None:
    def project_route(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"1"':
            return httpx.Response(304, headers={"ETag": '"1"'})
        return httpx.Response(200, json=PROJECT, headers={"ETag": '"1"'})

    server = Server({f"GET /projects/{PROJECT['id']}": project_route})

    with server.token_session(PAT) as api:
        first = api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))
        again = api.call(get_project.sync_detailed, project_id=str(PROJECT["id"]))

    assert first.name == again.name == "Launch"
    sent = server.sent(f"GET /projects/{PROJECT['id']}")
    assert [r.headers.get("If-None-Match") for r in sent] == [None, '"1"']


def test_a_value_that_is_not_a_personal_access_token_is_refused_before_any_request() -> None:
    server = Server({})

    with pytest.raises(ValueError, match="todo_pat_"):
        server.token_session("eyJhbGciOiJFUzI1NiJ9.not-a-pat")

    assert server.requests == []


def _task(id_: str, updated_at: str) -> dict[str, object]:
    return {
        "id": id_,
        "projectId": "a" * 24,
        "description": "Ship",
        "assignedTo": None,
        "status": "PENDING",
        "dueDate": None,
        "completedAt": None,
        "createdBy": "b" * 24,
        "isActive": True,
        "createdAt": "2026-12-01T10:00:00.000Z",
        "updatedAt": updated_at,
        "version": 1,
    }


def _sync_pages(request: httpx.Request) -> httpx.Response:
    """Two pages of a sync: a record and a tombstone, then a record, and the next `since`."""
    cursor = request.url.params.get("cursor")
    tombstone = {"id": "d" * 24, "isActive": False, "updatedAt": "2026-12-01T10:01:00.000Z"}
    if cursor is None:
        items, following = [_task("c" * 24, "2026-12-01T10:00:00.000Z"), tombstone], "p2"
    else:
        items, following = [_task("e" * 24, "2026-12-01T10:02:00.000Z")], None
    return httpx.Response(
        200,
        json={"items": items, "nextCursor": following, "nextSince": "2026-12-01T10:05:00.000Z"},
    )


def test_sync_yields_records_and_tombstones_across_pages_then_gives_the_next_since() -> None:
    server = Server({"GET /tasks": _sync_pages})
    with server.session() as api:
        feed = api.sync(list_tasks.sync_detailed, since=datetime(2026, 12, 1, 9, tzinfo=UTC))
        assert feed.next_since is None  # nothing read yet
        changes = [(c.id, c.is_active) for c in feed]
    assert changes == [("c" * 24, True), ("d" * 24, False), ("e" * 24, True)]
    assert feed.next_since == datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
    assert list(feed) == []
    assert feed.next_since is not None
    sent = server.sent("GET /tasks")
    # Every page asks for the same window; the second follows the first's cursor.
    assert [r.url.params["updatedSince"] for r in sent] == ["2026-12-01T09:00:00+00:00"] * 2
    assert [r.url.params.get("cursor") for r in sent] == [None, "p2"]


def test_a_first_sync_starts_at_the_beginning_and_yield_from_gets_the_next_since() -> None:
    server = Server({"GET /tasks": _sync_pages})

    def mirror(api: Session) -> Generator[object, None, datetime | None]:
        return (yield from api.sync(list_tasks.sync_detailed))

    with server.session() as api:
        gen = mirror(api)
        seen = []
        while True:
            try:
                seen.append(next(gen))
            except StopIteration as done:
                next_since = done.value
                break
    assert len(seen) == 3
    assert next_since == datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
    assert server.sent("GET /tasks")[0].url.params["updatedSince"].startswith("1970-01-01T00:00")


def test_a_refused_sync_is_an_api_error() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        body = _problem(422, "projectId cannot be combined with updatedSince")
        return httpx.Response(422, json=body | {"errors": [{"loc": ["query"], "msg": "no"}]})

    server = Server({"GET /tasks": refused})
    with server.session() as api, pytest.raises(ApiError) as caught:
        list(api.sync(list_tasks.sync_detailed, project_id="a" * 24))
    assert caught.value.status == 422
