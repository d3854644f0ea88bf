"""Cached factories for repositories and services, built once per container on first use.

Service modules are imported inside their factories, so a function's cold start imports only
the services its routes use (the users function never loads the reports code).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from todo_common.audit.publisher import AuditPublisher, sqs_client
from todo_common.audit.signing import kms_client
from todo_common.audit.trail import AuditTrail
from todo_common.clients import get_database, get_redis
from todo_common.database_server import DatabaseServer, database_server
from todo_common.locks import Locks
from todo_common.repositories.audits import AuditOutboxRepository, AuditRepository
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.settings import get_settings

# Imported by their factories, so a function loads only what its routes use: the audit
# consumer, relay and digest function never load redis, jwt or the idempotency store.
if TYPE_CHECKING:
    from todo_common.audit.digests import DigestSchedule, DigestService
    from todo_common.audit.signing import KmsDigestSigner
    from todo_common.audit.verify import AuditVerifier
    from todo_common.idempotency import IdempotentCreates
    from todo_common.repositories.audit_digests import AuditDigestRepository
    from todo_common.security.rate_limit import RequestBudget
    from todo_common.security.sessions import SessionStore
    from todo_common.security.throttle import LoginThrottle
    from todo_common.security.tokens import TokenService
    from todo_common.services.audits import AuditService
    from todo_common.services.auth import AuthService
    from todo_common.services.projects import ProjectService
    from todo_common.services.reports import ReportService
    from todo_common.services.sessions import SessionService
    from todo_common.services.tasks import TaskService
    from todo_common.services.users import UserService


@dataclass(frozen=True)
class Repositories:
    users: UserRepository
    projects: ProjectRepository
    tasks: TaskRepository
    audits: AuditRepository
    outbox: AuditOutboxRepository

    @property
    def audited(self) -> tuple[UserRepository, ProjectRepository, TaskRepository]:
        """The collections whose writes carry their audit event in an outbox (the relay's)."""
        return (self.users, self.projects, self.tasks)


@lru_cache(maxsize=1)
def locks() -> Locks:
    return Locks(get_redis(), get_settings().timeouts)


@lru_cache(maxsize=1)
def server() -> DatabaseServer:
    """MongoDB, or the local FerretDB with what it needs (DATABASE_SERVER; no probe)."""
    return database_server(get_settings().database.server, locks)


@lru_cache(maxsize=1)
def repositories() -> Repositories:
    db = get_database()
    return Repositories(
        users=UserRepository(db, server()),
        projects=ProjectRepository(db, server()),
        tasks=TaskRepository(db, server()),
        audits=AuditRepository(db, server()),
        outbox=AuditOutboxRepository(db),
    )


@lru_cache(maxsize=1)
def session_store() -> SessionStore:
    from todo_common.security.sessions import SessionStore

    return SessionStore(get_redis())


@lru_cache(maxsize=1)
def token_service() -> TokenService:
    from todo_common.security.tokens import TokenService

    get_settings().signing_key()  # refused when absent or weak (the functions that sign get it)
    return TokenService(get_settings().security)


@lru_cache(maxsize=1)
def audit_trail() -> AuditTrail:
    return AuditTrail(AuditPublisher.from_settings(), repositories().outbox)


@lru_cache(maxsize=1)
def login_throttle() -> LoginThrottle:
    from todo_common.security.throttle import LoginThrottle

    security = get_settings().security
    return LoginThrottle(
        get_redis(),
        max_failures=security.login_max_failures,
        window_seconds=security.login_window_seconds,
        max_failures_per_address=security.login_max_failures_per_address,
    )


@lru_cache(maxsize=1)
def auth_service() -> AuthService:
    from todo_common.services.auth import AuthService

    return AuthService(
        users=repositories().users,
        sessions=session_store(),
        tokens=token_service(),
        throttle=login_throttle(),
        audit=audit_trail(),
        bcrypt_rounds=get_settings().security.bcrypt_rounds,
        secret_key=get_settings().signing_key(),
        budget=request_budget(),
    )


# --- Session control and rate limits (issue 21.2, 21.5) -------------------------------------
def request_budget() -> RequestBudget:
    from todo_common.security.rate_limit import RequestBudget

    limits = get_settings().rate_limit
    return RequestBudget(requests=limits.requests, window_seconds=limits.window_seconds)


@lru_cache(maxsize=1)
def session_service() -> SessionService:
    from todo_common.services.sessions import SessionService

    return SessionService(session_store(), audit_trail())


@lru_cache(maxsize=1)
def user_service() -> UserService:
    from todo_common.services.users import UserService

    repos = repositories()
    return UserService(
        repos.users,
        repos.tasks,
        session_store(),
        locks(),
        audit_trail(),
        login_throttle(),
        get_settings().security.bcrypt_rounds,
    )


@lru_cache(maxsize=1)
def project_service() -> ProjectService:
    from todo_common.services.projects import ProjectService

    repos = repositories()
    return ProjectService(repos.projects, repos.tasks, repos.users, audit_trail())


@lru_cache(maxsize=1)
def task_service() -> TaskService:
    from todo_common.services.tasks import TaskService

    repos = repositories()
    return TaskService(repos.tasks, repos.projects, repos.users, audit_trail())


@lru_cache(maxsize=1)
def audit_digests() -> AuditDigestRepository:
    from todo_common.repositories.audit_digests import AuditDigestRepository

    return AuditDigestRepository(get_database())


@lru_cache(maxsize=1)
def digest_signer() -> KmsDigestSigner:
    from todo_common.audit.signing import KmsDigestSigner

    return KmsDigestSigner(get_settings().audit.digest_key_id)


def digest_schedule() -> DigestSchedule:
    from datetime import timedelta

    from todo_common.audit.digests import DigestSchedule

    audit = get_settings().audit
    return DigestSchedule(
        timedelta(seconds=audit.digest_period_seconds),
        timedelta(seconds=audit.digest_margin_seconds),
    )


@lru_cache(maxsize=1)
def digest_service() -> DigestService:
    from todo_common.audit.digests import DigestService

    return DigestService(
        repositories().audits,
        audit_digests(),
        digest_signer(),
        digest_schedule(),
        get_settings().audit.digest_max_periods_per_run,
    )


@lru_cache(maxsize=1)
def audit_verifier() -> AuditVerifier:
    from todo_common.audit.verify import AuditVerifier

    return AuditVerifier(repositories().audits, audit_digests(), digest_signer(), digest_schedule())


@lru_cache(maxsize=1)
def audit_service() -> AuditService:
    from todo_common.services.audits import AuditService

    return AuditService(repositories().audits, audit_digests(), audit_verifier())


@lru_cache(maxsize=1)
def report_service() -> ReportService:
    from todo_common.repositories.tasks import TaskReportQueries
    from todo_common.services.reports import ReportService

    repos = repositories()
    return ReportService(TaskReportQueries(repos.tasks), repos.projects, repos.users, repos.audits)


@lru_cache(maxsize=1)
def idempotent_creates() -> IdempotentCreates:
    from todo_common.idempotency import IdempotentCreates

    return IdempotentCreates(get_redis(), get_settings().signing_key())


def reset() -> None:
    """Forget every cached object (tests that change settings between cases)."""
    if audit_trail.cache_info().currsize:
        audit_trail().flush()  # the old trail's sends finish before anything is rebuilt
    for factory in (
        locks,
        server,
        repositories,
        session_store,
        token_service,
        login_throttle,
        audit_trail,
        auth_service,
        session_service,
        user_service,
        project_service,
        task_service,
        audit_service,
        audit_digests,
        digest_signer,
        digest_service,
        audit_verifier,
        report_service,
        idempotent_creates,
        sqs_client,
        kms_client,
    ):
        factory.cache_clear()
