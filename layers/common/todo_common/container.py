"""Cached factories for repositories and services, built once per container on first use.

Service modules are imported inside their factories, so a function's cold start imports only
the services its routes use (the users function never loads the reports code).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from todo_common import secrets_manager
from todo_common.audit.publisher import AuditPublisher, sqs_client
from todo_common.audit.trail import AuditTrail
from todo_common.clients import get_database, get_redis
from todo_common.database_server import DatabaseServer, database_server
from todo_common.kms import KeyUnavailable, kms_client, request_kms_client
from todo_common.locks import Locks
from todo_common.repositories.access_tokens import AccessTokenRepository
from todo_common.repositories.audits import AuditOutboxRepository, AuditRepository
from todo_common.repositories.base import MongoRepository
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository
from todo_common.settings import get_settings

# Imported by their factories, so a function loads only what its routes use: the audit
# consumer, relay and digest function never load redis, jwt or the idempotency store.
if TYPE_CHECKING:
    from todo_common.audit.digests import DigestSchedule, DigestService
    from todo_common.audit.signing import DigestSigner, KmsDigestSigner
    from todo_common.audit.store import S3DigestStore
    from todo_common.audit.verify import AuditVerifier
    from todo_common.idempotency import IdempotentCreates
    from todo_common.repositories.audit_digests import AuditDigestRepository
    from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository
    from todo_common.security.access_tokens import TokenLookups
    from todo_common.security.rate_limit import RequestBudget
    from todo_common.security.sessions import SessionStore
    from todo_common.security.throttle import LoginThrottle
    from todo_common.security.tokens import TokenService
    from todo_common.services.access_tokens import AccessTokenService
    from todo_common.services.audits import AuditService
    from todo_common.services.auth import AuthService
    from todo_common.services.projects import ProjectService
    from todo_common.services.reports import ReportService
    from todo_common.services.sessions import SessionService
    from todo_common.services.sync import DeltaSync
    from todo_common.services.tasks import TaskService
    from todo_common.services.users import UserService
    from todo_common.services.webhooks import WebhookService
    from todo_common.webhooks.delivery import WebhookDeliverer
    from todo_common.webhooks.fanout import WebhookFanout
    from todo_common.webhooks.queue import DeliveryQueue
    from todo_common.webhooks.secrets import SecretBox


class Repositories(NamedTuple):
    users: UserRepository
    projects: ProjectRepository
    tasks: TaskRepository
    audits: AuditRepository
    outbox: AuditOutboxRepository
    access_tokens: AccessTokenRepository

    @property
    def audited(self) -> tuple[MongoRepository, ...]:
        """The collections whose writes carry their audit event in an outbox (the relay's)."""
        return (self.users, self.projects, self.tasks, self.access_tokens)


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
        access_tokens=AccessTokenRepository(db, server()),
    )


@lru_cache(maxsize=1)
def session_store() -> SessionStore:
    from todo_common.security.sessions import SessionStore

    return SessionStore(get_redis())


@lru_cache(maxsize=1)
def token_service() -> TokenService:
    """Verifies with the pinned public keys; signs only where SECURITY_JWT_SIGNING_KEY_ID is
    given (the users function)."""
    from todo_common.security.keys import KmsTokenSigner, kms_unavailable, verifying_keys
    from todo_common.security.tokens import TokenService

    security = get_settings().security
    try:
        keys = verifying_keys(security.verify_key_ids())
    except KeyUnavailable as exc:  # without SnapStart, read on a first request: a 503, not a 500
        raise kms_unavailable(exc) from exc
    signer = None
    if security.jwt_signing_key_id:
        signing_kid = next(iter(keys.keys))  # verify_key_ids() puts the signing key first
        signer = KmsTokenSigner(security.jwt_signing_key_id, signing_kid)
    return TokenService(security, keys, signer)


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
def token_lookups() -> TokenLookups:
    from todo_common.security.access_tokens import TokenLookups

    security = get_settings().security
    return TokenLookups(
        get_redis(),
        max_failures=security.token_max_failures_per_address,
        window_seconds=security.login_window_seconds,
    )


@lru_cache(maxsize=1)
def auth_service() -> AuthService:
    from todo_common.services.auth import AccessTokenAuth, AuthService

    return AuthService(
        users=repositories().users,
        sessions=session_store(),
        tokens=token_service(),
        throttle=login_throttle(),
        audit=audit_trail(),
        bcrypt_rounds=get_settings().security.bcrypt_rounds,
        hash_key=secrets_manager.hash_key,
        budget=request_budget(),
        access_tokens=AccessTokenAuth(repositories().access_tokens, token_lookups()),
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
def access_token_service() -> AccessTokenService:
    from todo_common.services.access_tokens import AccessTokenService

    return AccessTokenService(repositories().access_tokens, audit_trail())


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
    return ProjectService(repos.projects, repos.tasks, repos.users, audit_trail(), delta_sync())


@lru_cache(maxsize=1)
def task_service() -> TaskService:
    from todo_common.services.tasks import TaskService

    repos = repositories()
    return TaskService(repos.tasks, repos.projects, repos.users, audit_trail(), delta_sync())


def delta_sync() -> DeltaSync:
    from datetime import timedelta

    from todo_common.services.sync import DeltaSync

    return DeltaSync(timedelta(seconds=get_settings().app.sync_settle_seconds))


@lru_cache(maxsize=1)
def audit_digests() -> AuditDigestRepository:
    from todo_common.repositories.audit_digests import AuditDigestRepository

    return AuditDigestRepository(get_database(), server())


@lru_cache(maxsize=1)
def digest_signer() -> KmsDigestSigner:
    from todo_common.audit.signing import KmsDigestSigner

    return KmsDigestSigner(get_settings().audit.digest_key_id)


@lru_cache(maxsize=1)
def digest_store() -> S3DigestStore:
    from todo_common.audit.store import S3DigestStore

    return S3DigestStore(get_settings().audit.digest_bucket)


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
        digest_store(),
        digest_signer(),
        digest_schedule(),
        get_settings().audit.digest_max_periods_per_run,
    )


@lru_cache(maxsize=1)
def audit_verifier() -> AuditVerifier:
    return verifier_with(digest_store(), digest_signer())


def verifier_with(store: S3DigestStore, signatures: DigestSigner) -> AuditVerifier:
    """The verifier over this store, checking signatures with `signatures` (KMS, or the
    auditor's exported public key)."""
    from datetime import timedelta

    from todo_common.audit.verify import AuditVerifier

    return AuditVerifier(
        repositories().audits,
        audit_digests(),
        store,
        signatures,
        digest_schedule(),
        timedelta(seconds=get_settings().audit.digest_late_tolerance_seconds),
    )


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

    return IdempotentCreates(get_redis(), secrets_manager.hash_key())


# -- webhooks (issue 20) ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def webhook_repositories() -> WebhookRepositories:
    from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository

    db = get_database()
    return WebhookRepositories(WebhookRepository(db, server()), DeliveryRepository(db, server()))


class WebhookRepositories(NamedTuple):
    webhooks: WebhookRepository
    deliveries: DeliveryRepository


@lru_cache(maxsize=1)
def webhook_secrets() -> SecretBox:
    from todo_common.webhooks.secrets import SecretBox

    return SecretBox(get_settings().webhooks.secret_key_id)


@lru_cache(maxsize=1)
def delivery_queue() -> DeliveryQueue:
    from todo_common.webhooks.queue import DeliveryQueue

    return DeliveryQueue(get_settings().webhooks.queue_url)


@lru_cache(maxsize=1)
def webhook_service() -> WebhookService:
    from todo_common.services.webhooks import WebhookService

    hooks = webhook_repositories()
    return WebhookService(
        hooks.webhooks,
        hooks.deliveries,
        repositories().projects,
        webhook_secrets(),
        delivery_queue(),
        get_settings().webhooks,
        audit_trail(),
    )


@lru_cache(maxsize=1)
def webhook_fanout() -> WebhookFanout:
    from todo_common.webhooks.fanout import WebhookFanout

    repos, hooks = repositories(), webhook_repositories()
    return WebhookFanout(
        hooks.webhooks, hooks.deliveries, repos.users, repos.projects, repos.tasks, delivery_queue()
    )


@lru_cache(maxsize=1)
def webhook_deliverer() -> WebhookDeliverer:
    from datetime import timedelta

    from todo_common.webhooks.addresses import NoLookupResolver, SystemResolver
    from todo_common.webhooks.delivery import RetryPolicy, WebhookDeliverer
    from todo_common.webhooks.sender import WebhookSender

    settings = get_settings().webhooks
    hooks = webhook_repositories()
    sender = WebhookSender(
        NoLookupResolver() if settings.loopback_only else SystemResolver(),
        allow_loopback=settings.allow_loopback,
        timeout_seconds=settings.timeout_seconds,
        max_response_bytes=settings.max_response_bytes,
        loopback_only=settings.loopback_only,
    )
    retry = RetryPolicy(
        settings.retry_base_seconds,
        settings.retry_cap_seconds,
        timedelta(seconds=settings.give_up_seconds),
    )
    return WebhookDeliverer(
        hooks.webhooks, hooks.deliveries, delivery_queue(), sender, webhook_secrets(), retry
    )


WEBHOOK_FACTORIES = (
    webhook_repositories,
    webhook_secrets,
    delivery_queue,
    webhook_service,
    webhook_fanout,
    webhook_deliverer,
)


def reset() -> None:
    """Forget every cached object (tests that change settings between cases)."""
    # Only the digest function and the verifier use S3: the API functions do not import it.
    from todo_common.audit.store import s3_client

    if audit_trail.cache_info().currsize:
        audit_trail().flush()  # the old trail's sends finish before anything is rebuilt
    for factory in (
        locks,
        server,
        repositories,
        session_store,
        token_service,
        login_throttle,
        token_lookups,
        audit_trail,
        auth_service,
        session_service,
        access_token_service,
        user_service,
        project_service,
        task_service,
        audit_service,
        audit_digests,
        digest_signer,
        digest_store,
        digest_service,
        audit_verifier,
        report_service,
        idempotent_creates,
        sqs_client,
        kms_client,
        s3_client,
        request_kms_client,
        *WEBHOOK_FACTORIES,
    ):
        factory.cache_clear()
