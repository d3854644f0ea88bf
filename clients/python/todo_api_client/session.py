"""A logged-in session over the generated client: the part of a client that is not in the document.

Written by hand (`make client` regenerates everything else in this package and keeps this file).

    with Session.login("https://api.example.com", "lead@example.com", "secret") as api:
        project = api.call(create_project.sync_detailed, body=ProjectCreate(name="Launch"))
        for task in api.pages(list_tasks.sync_detailed, project_id=project.id):
            print(task.description)

    # A job without a person: a personal access token (`POST /auth/tokens`), from a secret
    with Session.with_token("https://api.example.com", os.environ["TODO_API_TOKEN"]) as api:
        ...

- The access token goes with every request; on a `401` the session refreshes it once with the
  refresh token (one refresh at a time, across threads: a refresh token is single-use) and
  sends the request again. A personal access token is never refreshed: its `401` (revoked,
  expired, its owner inactive) goes back to the caller.
- A `429` is sent again after its `Retry-After`, and so is a `503` for a read or a create with
  its Idempotency-Key (an update or a delete may have been stored before the `503`: it goes back
  to the caller). At most `retries` times, waiting at most `max_wait` seconds each; a longer wait
  is returned to the caller as it is. Login and refresh are never resent.
- Every create (`POST /users`, `/projects`, `/tasks`) carries an `Idempotency-Key` unless the
  caller gave one, so a retried create never creates twice.
- A record read once is asked for again with `If-None-Match`: the API answers `304` while the
  session's copy is current, and the session hands back its copy as the `200` it was (a bounded
  cache of `cache_size` records; a write to a record's path drops its copy).
- `call` returns the parsed success body of a generated operation or raises `ApiError` with the
  problem; `pages` iterates over every item of a cursor-paginated list; `sync` over every change
  of tasks or projects since the last sync (records and tombstones), then says where the next
  starts:

    feed = api.sync(list_tasks.sync_detailed, since=saved_since)  # None the first time
    for change in feed:
        store.drop(change.id) if not change.is_active else store.put(change)
    saved_since = feed.next_since
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar, cast, overload

import httpx

from .api.users import login as login_operation
from .api.users import logout as logout_operation
from .api.users import refresh as refresh_operation
from .client import AuthenticatedClient, Client
from .models.login_request import LoginRequest
from .models.problem import Problem
from .models.refresh_request import RefreshRequest
from .models.token_response import TokenResponse
from .models.validation_problem import ValidationProblem
from .types import UNSET, Response, Unset

T = TypeVar("T")

# The collections whose POST creates a record: the requests that get an Idempotency-Key.
CREATE_PATHS = frozenset({"/users", "/projects", "/tasks"})
# Where a token is issued: a 401 there is a wrong password or a dead session, not an old token.
TOKEN_PATHS = frozenset({"/auth/login", "/auth/token", "/auth/refresh"})
ACCESS_TOKEN_PREFIX = "todo_pat_"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a first sync's `since`: every record


class ApiError(Exception):
    """A response that is not a success: its status and, when the API sent one, its problem."""

    def __init__(self, status: int, problem: Problem | ValidationProblem | None) -> None:
        self.status = status
        self.problem = problem
        detail = problem.detail if problem is not None else "no problem document"
        super().__init__(f"{status}: {detail}")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked to wait (`Retry-After`: seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _may_resend(request: httpx.Request, status: int) -> bool:
    """A `429` refused the request before anything was done. A `503` may come after a write was
    stored: only a read, or a create with its Idempotency-Key, is safe to send again."""
    if status == 429:
        return True
    return status == 503 and (
        request.method in {"GET", "HEAD", "OPTIONS"} or "Idempotency-Key" in request.headers
    )


class _Flow(httpx.Auth):
    """Every request of the session, as httpx sends it (its own transport, proxies included):
    an Idempotency-Key on a create, the bearer token, one refresh and resend on a `401`, and
    resends after a `429` or `503` as `_may_resend` allows."""

    def __init__(
        self,
        prefix: str,
        refresh: Callable[[str], str],
        retries: int,
        max_wait: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.access = ""
        self.refreshable = True  # false for a personal access token, which has no refresh
        self._prefix = prefix  # the base URL's path, for an API behind a path (`/v1`)
        self._refresh = refresh
        self._retries = retries
        self._max_wait = max_wait
        self._sleep = sleep

    def _route(self, request: httpx.Request) -> str:
        return request.url.path.removeprefix(self._prefix) or "/"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.method == "POST" and self._route(request) in CREATE_PATHS:
            request.headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        sent_with = self.access
        request.headers["Authorization"] = f"Bearer {sent_with}"
        response = yield request
        if (
            response.status_code == 401
            and self.refreshable
            and self._route(request) not in TOKEN_PATHS
        ):
            request.headers["Authorization"] = f"Bearer {self._refresh(sent_with)}"
            response = yield request
        for _ in range(self._retries):
            if not _may_resend(request, response.status_code):
                return
            wait = retry_after(response)
            if wait is None or wait > self._max_wait:
                return
            self._sleep(wait)
            response = yield request


class _Held:
    """A `200` kept for its `ETag`: what a `304` stands for."""

    def __init__(self, response: httpx.Response) -> None:
        self.etag = response.headers["ETag"]
        self.content = response.content  # decoded: the copy must not claim an encoding
        self.headers = response.headers.copy()
        for framing in ("Content-Encoding", "Content-Length", "Transfer-Encoding"):
            self.headers.pop(framing, None)


class _RevalidatingClient(httpx.Client):
    """An `httpx.Client` that keeps each record it read with its `ETag`, asks for it again with
    `If-None-Match`, and answers a `304` with the copy it kept. `send` is where every request
    passes, after the auth flow's own resends, so the proxies and the flow stay httpx's."""

    def __init__(self, *, cache_size: int, **options: Any) -> None:
        super().__init__(**options)
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._held_lock = threading.Lock()
        self._cache_size = cache_size

    def send(self, request: httpx.Request, **options: Any) -> httpx.Response:
        key = str(request.url)
        with self._held_lock:
            held = self._held.get(key)
            if request.method != "GET":
                self._held.pop(key, None)
        if held is not None and request.method == "GET":
            request.headers.setdefault("If-None-Match", held.etag)
        response = super().send(request, **options)
        if response.status_code == 304 and held is not None:
            response.close()
            return httpx.Response(200, headers=held.headers, content=held.content, request=request)
        if request.method == "GET" and response.status_code == 200 and "ETag" in response.headers:
            response.read()
            with self._held_lock:
                self._held[key] = _Held(response)
                self._held.move_to_end(key)
                while len(self._held) > self._cache_size:
                    self._held.popitem(last=False)
        return response


class SyncFeed(Generator[Any, None, datetime]):
    """The changes of one sync (`Session.sync`); after the last, `next_since` is set (it is also
    the generator's return value, so `since = yield from api.sync(...)` works)."""

    def __init__(self, changes: Generator[Any, None, datetime]) -> None:
        self._changes = changes
        self.next_since: datetime | None = None

    def send(self, value: None) -> Any:
        if self.next_since is not None:  # done: asked again, it stays done
            raise StopIteration(self.next_since)
        try:
            return self._changes.send(value)
        except StopIteration as done:
            self.next_since = done.value
            raise StopIteration(done.value) from None

    def throw(self, *args: Any) -> Any:
        return self._changes.throw(*args)


class Session:
    """A generated `AuthenticatedClient` with a logged-in user's tokens (see the module doc)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 15.0,
        retries: int = 3,
        max_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cache_size: int = 256,
    ) -> None:
        self._lock = threading.Lock()
        self._refresh_token = ""
        prefix = httpx.URL(base_url).path.rstrip("/")
        self._flow = _Flow(prefix, self._refreshed, retries, max_wait, sleep)
        self._http = _RevalidatingClient(
            cache_size=cache_size,
            base_url=base_url,
            timeout=timeout,
            auth=self._flow,
            transport=transport,
        )
        self.client = AuthenticatedClient(base_url=base_url, token="")
        self.client.set_httpx_client(self._http)
        # Login and refresh go as they are: no token, no resend (a refresh token is single-use:
        # sent again after a 503 that followed its rotation, it would end the session).
        self._public = Client(base_url=base_url)
        self._public.set_httpx_client(
            httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        )

    @classmethod
    def login(cls, base_url: str, email: str, password: str, **options: Any) -> Session:
        session = cls(base_url, **options)
        try:
            body = LoginRequest(email=email, password=password)
            session.use(
                session._expect(login_operation.sync_detailed(client=session._public, body=body))
            )
        except BaseException:
            session.close()
            raise
        return session

    @classmethod
    def with_token(cls, base_url: str, token: str, **options: Any) -> Session:
        """A session that authenticates with a personal access token (`todo_pat_…`): what a CI
        job or a bot uses. It has no login to end and nothing to refresh."""
        if not token.startswith(ACCESS_TOKEN_PREFIX):
            raise ValueError(f"a personal access token starts with {ACCESS_TOKEN_PREFIX}")
        session = cls(base_url, **options)
        session._flow.access = token
        session._flow.refreshable = False
        return session

    def use(self, tokens: TokenResponse) -> None:
        """Take a token pair (from a login, or kept from an earlier session)."""
        with self._lock:
            self._keep(tokens)

    def _keep(self, tokens: TokenResponse) -> None:
        self._flow.access, self._refresh_token = tokens.access_token, tokens.refresh_token

    def _refreshed(self, stale: str) -> str:
        """A fresh access token, refreshing only if no other request has done so since `stale`."""
        with self._lock:
            if self._flow.access == stale:
                body = RefreshRequest(refresh_token=self._refresh_token)
                self._keep(
                    self._expect(refresh_operation.sync_detailed(client=self._public, body=body))
                )
            return self._flow.access

    @staticmethod
    def _expect(response: Response[T | Problem | ValidationProblem]) -> T:
        parsed = response.parsed
        if response.status_code < 300 and not isinstance(parsed, (Problem, ValidationProblem)):
            return cast("T", parsed)  # None only for a 204, whose operation's success type is Any
        problem = parsed if isinstance(parsed, (Problem, ValidationProblem)) else None
        raise ApiError(response.status_code, problem)

    @overload
    def call(
        self, operation: Callable[..., Response[T | Problem | ValidationProblem]], /, **kwargs: Any
    ) -> T: ...
    @overload
    def call(self, operation: Callable[..., Response[T | Problem]], /, **kwargs: Any) -> T: ...
    def call(self, operation: Callable[..., Response[Any]], /, **kwargs: Any) -> Any:
        """Run a generated `sync_detailed` operation; its success body, or `ApiError`."""
        return self._expect(operation(client=self.client, **kwargs))

    def pages(self, operation: Callable[..., Response[Any]], /, **kwargs: Any) -> Iterator[Any]:
        """Every item of a cursor-paginated list operation, page after page."""
        cursor: str | Unset = UNSET
        while True:
            page = self.call(operation, cursor=cursor, **kwargs)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def sync(
        self,
        operation: Callable[..., Response[Any]],
        /,
        since: datetime | None = None,
        **kwargs: Any,
    ) -> SyncFeed:
        """Every change of `GET /tasks` or `GET /projects` (`list_tasks.sync_detailed`, ...) since
        `since` (None: everything), page after page: records, and tombstones (`is_active` false,
        drop your copy). Once iterated, `feed.next_since` is the `since` of the next sync (it is
        also the generator's return value, for `yield from`)."""
        return SyncFeed(self._changes(operation, since or EPOCH, **kwargs))

    def _changes(
        self, operation: Callable[..., Response[Any]], since: datetime, **kwargs: Any
    ) -> Generator[Any, None, datetime]:
        cursor: str | Unset = UNSET
        while True:
            page = self.call(operation, updated_since=since, cursor=cursor, **kwargs)
            yield from page.items
            if not page.next_cursor:
                return cast("datetime", page.next_since)
            cursor = page.next_cursor

    def logout(self) -> None:
        """End the session on the server (its refresh token stops working)."""
        self.call(logout_operation.sync_detailed)

    def close(self) -> None:
        self._http.close()
        self._public.get_httpx_client().close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
