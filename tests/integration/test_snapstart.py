"""SnapStart's runtime hooks, driven in-process the way the Lambda runtime drives them.

Build (import the function), run the before-snapshot hooks, then the after-restore hooks, and the
function must answer with clients created after the restore: a snapshot carries no connection.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import snapshot_restore_py  # type: ignore[import-untyped]
from pymongo.database import Database

from devtools.lambda_local import function_at, function_module, handler_at
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.integration.lambda_events import UsersApi
from todo_common import clients, container, snapstart
from todo_common.principal import Role
from todo_common.security import passwords

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]


def _on_own_loop(hook: Callable[[], None]) -> None:
    """As the runtime calls a hook: on a thread whose event loop the warm-up request may use."""

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            hook()
        finally:
            asyncio.get_event_loop().close()
            asyncio.set_event_loop(None)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def test_the_hooks_are_registered_with_the_runtime_library() -> None:
    handler_at("users")
    before = [entry[0] for entry in snapshot_restore_py.get_before_snapshot()]
    after = [entry[0] for entry in snapshot_restore_py.get_after_restore()]
    assert snapstart.before_snapshot in before
    assert snapstart.after_restore in after


def test_given_a_built_function_when_snapshotted_and_restored_then_it_answers_on_new_clients(
    clean: None, db: Db
) -> None:
    # Given: the users function is built, and its container has talked to MongoDB and Redis.
    api = UsersApi()
    user = make_user(db, role=Role.ADMIN)
    api.token_for(user.email, DEFAULT_PASSWORD)
    mongo_at_init, redis_at_init = clients.get_mongo_client(), clients.get_redis()
    passwords.dummy_hash.cache_clear()

    # When: the snapshot is taken.
    _on_own_loop(snapstart.before_snapshot)

    # Then: what a first request needs is built, and no client is left in the snapshot.
    assert passwords.dummy_hash.cache_info().currsize == 1
    assert clients.get_mongo_client.cache_info().currsize == 0
    assert clients.get_redis.cache_info().currsize == 0
    assert container.repositories.cache_info().currsize == 0

    # When: an environment is restored from it.
    random.seed(7)
    seeded = random.random()
    random.seed(7)
    _on_own_loop(snapstart.after_restore)

    # Then: new clients, a new random sequence, and requests succeed on them.
    assert clients.get_mongo_client.cache_info().currsize == 1
    assert clients.get_mongo_client() is not mongo_at_init
    assert clients.get_redis() is not redis_at_init
    assert random.random() != seeded
    token = api.token_for(user.email, DEFAULT_PASSWORD)
    me = api.request("GET", "/users/me", token=token)
    assert me.status == 200, me.body
    assert me.json()["email"] == user.email
    assert container.repositories().users.collection.database.client is clients.get_mongo_client()


def _module_of(function: str) -> Any:
    return function_module(function_at(function))


def test_given_the_docs_function_when_snapshotted_then_the_openapi_document_is_in_memory(
    clean: None,
) -> None:
    document = _module_of("docs")._document
    document.cache_clear()

    _on_own_loop(snapstart.before_snapshot)
    _on_own_loop(snapstart.after_restore)

    assert document.cache_info().currsize == 1
    assert document()["openapi"].startswith("3.1")


def test_given_the_audit_consumer_when_restored_then_its_repository_is_rebuilt(clean: None) -> None:
    audits = _module_of("audit_consumer")._audits
    before = audits()

    _on_own_loop(snapstart.before_snapshot)
    _on_own_loop(snapstart.after_restore)

    assert audits() is not before
    assert audits().collection.database.client is clients.get_mongo_client()
