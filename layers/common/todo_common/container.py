"""Cached factories for the services, built once per container on first use (not at import)."""

from __future__ import annotations

from functools import lru_cache

from todo_common.clients import get_database, get_redis
from todo_common.idempotency import IdempotentCreates
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.security.sessions import SessionStore
from todo_common.security.throttle import LoginThrottle
from todo_common.security.tokens import TokenService
from todo_common.services.auth import AuthService
from todo_common.services.projects import ProjectService
from todo_common.services.tasks import TaskService
from todo_common.services.users import UserService
from todo_common.settings import get_settings


@lru_cache(maxsize=1)
def session_store() -> SessionStore:
    return SessionStore(get_redis())


@lru_cache(maxsize=1)
def token_service() -> TokenService:
    return TokenService(get_settings().security)


@lru_cache(maxsize=1)
def auth_service() -> AuthService:
    security = get_settings().security
    return AuthService(
        users=UserRepository(get_database()),
        sessions=session_store(),
        tokens=token_service(),
        throttle=LoginThrottle(
            get_redis(), security.login_max_failures, security.login_window_seconds
        ),
        bcrypt_rounds=security.bcrypt_rounds,
    )


@lru_cache(maxsize=1)
def user_service() -> UserService:
    db = get_database()
    return UserService(
        UserRepository(db),
        TaskRepository(db),
        session_store(),
        get_redis(),
        get_settings().security.bcrypt_rounds,
    )


@lru_cache(maxsize=1)
def project_service() -> ProjectService:
    db = get_database()
    return ProjectService(ProjectRepository(db), TaskRepository(db), UserRepository(db))


@lru_cache(maxsize=1)
def task_service() -> TaskService:
    db = get_database()
    return TaskService(TaskRepository(db), ProjectRepository(db), UserRepository(db))


@lru_cache(maxsize=1)
def idempotent_creates() -> IdempotentCreates:
    return IdempotentCreates(get_redis())
