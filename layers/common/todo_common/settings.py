"""Configuration from the environment (and an optional `.env`), with the original variable names.

Each group is the part of a variable's name before its first `_` (`APP_`, `SECURITY_`,
`DATABASE_`, `LOG_`, `REDIS_`, `AUDIT_`, `WEBHOOKS_`), so `SECURITY_JWT_ISSUER` is
`settings.security.jwt_issuer`; the rate limits are `SECURITY_RATE_LIMIT_*`. One `BaseSettings`
reads the environment once, per container; the groups are plain models (nine settings classes,
each reading the environment and `.env` itself, cost ~4 ms of every cold start).
Secrets are not settings: they are read at run time from Secrets Manager
(`todo_common/secrets_manager.py`), and a setting only names the secret (`DATABASE_URI_SECRET`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple
from urllib.parse import quote_plus

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "your-secret-key", "please-change-me", "dev-secret"}
)
MIN_SECRET_BYTES = 32


class AppSettings(BaseModel):
    name: str = "Todo API"
    version: str = "1.0.0"
    description: str = "Users, projects, tasks, an audit trail and reports for teams."
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    reload: bool = False
    api_docs_url: str | None = "/docs"
    redoc_url: str | None = "/redoc"
    scalara_url: str | None = "/scalar"
    openapi_url: str | None = "/openapi.json"
    # How long one request may wait on MongoDB and Redis that do not answer before it is a 503
    # (SPEC §6: within 3 s). Every client timeout derives from it: see DependencyTimeouts.
    dependency_budget_ms: int = Field(default=2500, ge=300, le=9000)
    # How long a secret read from Secrets Manager is kept before it is read again (issue 19).
    secrets_max_age_seconds: int = Field(default=300, ge=0)
    # How far behind now a sync answer (`updatedSince`) stops: longer than a write may take from
    # stamping `updatedAt` to its commit (the dependency budget) plus the clocks' skew, so no
    # write in flight is jumped over (docs/decisions.md, "Delta sync").
    sync_settle_seconds: float = Field(default=5.0, ge=0, le=300)


class SecuritySettings(BaseModel):
    # The key of the keyed hashes (an idempotency record's body, an unknown email in a log line):
    # from the secret SECURITY_HASH_KEY_SECRET names, or, for a local run without Secrets
    # Manager only, SECURITY_HASH_KEY itself. It signs no token.
    hash_key_secret: str | None = None
    hash_key: str = ""
    # The one algorithm tokens are signed and verified with (SPEC §4: never taken from a token).
    jwt_algorithm: Literal["ES256"] = "ES256"
    access_token_expire_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=90)
    jwt_issuer: str = "todo-api"
    jwt_audience: str = "todo-api"
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=120)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # Password checks per (email, client address) and failed ones per address, per window.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=100, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    # Failed personal access token lookups per client address, per login window: a budget of its
    # own, so a CI job retrying a revoked token does not lock its office out of logging in.
    token_max_failures_per_address: int = Field(default=100, ge=1)

    # -- token keys (issue 19): asymmetric KMS keys, ECC_NIST_P256 / SIGN_VERIFY -----------------
    # The key that signs new tokens (id, ARN or alias; given to the users function only), and the
    # keys whose tokens still verify, comma-separated (the signing key verifies without being
    # listed). A key left out of both ends its tokens at once. Rotation: docs/deploy.md.
    jwt_signing_key_id: str | None = None
    jwt_verify_key_ids: str = ""

    def verify_key_ids(self) -> tuple[str, ...]:
        """Every key whose tokens verify: the signing key first, then the listed ones."""
        listed = (key.strip() for key in self.jwt_verify_key_ids.split(","))
        keys = [self.jwt_signing_key_id or "", *listed]
        return tuple(dict.fromkeys(key for key in keys if key))


# --- Rate limits (issue 21.5) ---------------------------------------------------------------
class RateLimitSettings(BaseModel):
    """The request budget of every authenticated principal (a session): `requests` per fixed
    window of `window_seconds` that opens with its first request; past it, 429."""

    requests: int = Field(default=600, ge=1)
    window_seconds: int = Field(default=60, ge=1, le=24 * 60 * 60)


class DatabaseSettings(BaseModel):
    uri: str | None = None
    # The secret holding the URI (issue 19); when set, it is used and DATABASE_URI is not.
    uri_secret: str | None = None
    # Which server the URI points at: `ferretdb` switches on what the local server needs
    # (todo_common/database_server.py); scripts/servers.py sets it for the one it starts.
    server: Literal["mongodb", "ferretdb"] = "mongodb"
    host: str = "127.0.0.1"
    port: int = 27017
    name: str = "todo"
    user: str | None = None
    password: str | None = None
    auth_source: str = "admin"
    max_pool_size: int = 5

    def connection_uri(self) -> str:
        """`DATABASE_URI` when given (e.g. Atlas `mongodb+srv://`), else built from the parts."""
        if self.uri:
            return self.uri
        credentials = ""
        if self.user:
            credentials = f"{quote_plus(self.user)}:{quote_plus(self.password or '')}@"
        query = f"?authSource={quote_plus(self.auth_source)}" if self.user else ""
        return f"mongodb://{credentials}{self.host}:{self.port}/{query}"


class LogSettings(BaseModel):
    level: str = "INFO"
    format: Literal["text", "json", "csv"] = "text"
    file: str | None = None
    retention: int = Field(default=7, ge=1, description="rotated files kept")
    rotation: str = "midnight"
    handlers: str = "console"
    date_format: str = "%Y-%m-%dT%H:%M:%S%z"


class RedisSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 6379
    password: str | None = None
    # The secret holding the password (issue 19); when set, it is used and REDIS_PASSWORD is not.
    password_secret: str | None = None
    db: int = 0
    username: str | None = None
    ssl: bool = False
    ssl_cert_reqs: Literal["required", "optional", "none"] = "required"
    # Seconds; unset, they derive from APP_DEPENDENCY_BUDGET_MS (see DependencyTimeouts).
    socket_connect_timeout: float | None = Field(default=None, gt=0)
    socket_timeout: float | None = Field(default=None, gt=0)
    connection_pool_max_connections: int = 10
    decode_responses: bool = True

    @field_validator("socket_connect_timeout", "socket_timeout", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # as in .env.example: derive from the budget


class AuditSettings(BaseModel):
    queue_url: str | None = None
    # The relay leaves younger events to the sender of the request that wrote them.
    relay_min_age_seconds: int = Field(default=30, ge=0)
    # Signed digests (docs/decisions.md): each period of the trail is closed once it is over
    # plus the margin, which must outlast the consumer's longest batch (its 30 s timeout), so no
    # record can be stored in a period after its digest.
    digest_period_seconds: int = Field(default=3600, ge=1, le=86400)
    digest_margin_seconds: int = Field(default=300, ge=0)
    # The asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs digests: id, ARN or alias.
    digest_key_id: str | None = None
    # A first run over an old trail catches up over several runs, each within its timeout.
    digest_max_periods_per_run: int = Field(default=200, ge=1)
    # -- the write-once digest store (issue 18; docs/deploy.md) --
    # The S3 bucket with Object Lock that holds one object per period: the chain's truth.
    digest_bucket: str | None = None
    # A digest stored later than its period's end plus the margin plus this is a finding: the
    # schedule runs every 5 minutes, so 15 minutes is three missed runs.
    digest_late_tolerance_seconds: int = Field(default=900, ge=0)


# -- webhooks (issue 20) ---------------------------------------------------------------------
class WebhookSettings(BaseModel):
    """Webhook deliveries (docs/decisions.md, "Webhooks")."""

    queue_url: str | None = None  # the delivery queue
    # The symmetric KMS key (SYMMETRIC_DEFAULT) whose data keys encrypt the signing secrets.
    secret_key_id: str | None = None
    # Local only (make dev, the tests): plain http URLs, and receivers on loopback addresses.
    allow_http: bool = False
    allow_loopback: bool = False
    # The tests and benchmarks: loopback receivers only, and no name resolved through DNS.
    loopback_only: bool = False
    timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    max_response_bytes: int = Field(default=65536, ge=0)
    # Retries: base * 2^(attempt-1) with up to 25 % jitter, capped; the subscription is disabled
    # once it has failed, with no success between, for `give_up_seconds`.
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_cap_seconds: float = Field(default=4 * 3600.0, gt=0)
    give_up_seconds: int = Field(default=3 * 86400, ge=1)
    # After a rotation the previous secret signs beside the new one for this long.
    secret_overlap_seconds: int = Field(default=86400, ge=0)
    # The sweep re-enqueues a pending delivery whose attempt is this late (a lost message).
    sweep_grace_seconds: int = Field(default=300, ge=0)


# Of the dependency budget, one MongoDB operation may take this share; Redis has the rest.
MONGO_SHARE = 0.6
# Of Redis's share, connecting and one command's reply may each take this much (unless set);
# waiting for a free pooled connection has what is left.
REDIS_SOCKET_SHARE = 0.3


class DependencyTimeouts(NamedTuple):
    """How `APP_DEPENDENCY_BUDGET_MS` is shared out among the client timeouts.

    A request stops at the first dependency call that fails, and a call to a dependency that
    answers takes milliseconds, so what a dead dependency costs a request is one MongoDB
    operation (`mongo_operation_ms`: pymongo's `timeoutMS` bounds server selection,
    connecting, retries and the reply together) or one Redis command (`redis_command`: waiting
    for a pooled connection + connecting + the reply). `/health` asks both: at most their sum,
    which is the budget. docs/decisions.md ("Timeouts") has the figures.
    """

    budget_ms: int
    mongo_operation_ms: int
    redis_pool_wait: float
    redis_connect: float
    redis_socket: float

    @classmethod
    def share(cls, budget_ms: int, redis: RedisSettings) -> DependencyTimeouts:
        """The timeouts for `budget_ms`; ValueError if the Redis ones set leave no room."""
        mongo_ms = int(budget_ms * MONGO_SHARE)
        redis_share = (budget_ms - mongo_ms) / 1000
        connect = redis.socket_connect_timeout or round(redis_share * REDIS_SOCKET_SHARE, 3)
        socket = redis.socket_timeout or round(redis_share * REDIS_SOCKET_SHARE, 3)
        pool_wait = round(redis_share - connect - socket, 3)
        if pool_wait <= 0:
            raise ValueError(
                f"REDIS_SOCKET_CONNECT_TIMEOUT + REDIS_SOCKET_TIMEOUT ({connect} + {socket} s) "
                f"must stay below Redis's share ({redis_share} s) of APP_DEPENDENCY_BUDGET_MS "
                f"({budget_ms} ms); raise the budget or lower them"
            )
        return cls(budget_ms, mongo_ms, pool_wait, connect, socket)

    @property
    def aws_connect(self) -> float:
        """Seconds to connect to an AWS API on a request's path (KMS signing a login's tokens,
        Secrets Manager on a first request)."""
        return round(self.mongo_operation_ms / 2000, 3)

    @property
    def aws_read(self) -> float:
        """Seconds to wait for its answer: connecting and reading together take what one
        MongoDB operation may, the request's other dependencies having answered already."""
        return round(self.mongo_operation_ms / 2000, 3)

    @property
    def redis_command(self) -> float:
        """The longest one Redis command can take when Redis does not answer."""
        return self.redis_pool_wait + self.redis_connect + self.redis_socket


class Settings(BaseSettings):
    """All settings; the secrets are read apart (`todo_common/secrets_manager.py`)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `SECURITY_JWT_ISSUER` -> security.jwt_issuer: split once, at the first `_`.
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    app: AppSettings = Field(default_factory=AppSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    rate_limit: RateLimitSettings = Field(
        default_factory=RateLimitSettings, validation_alias="security_rate_limit"
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    @property
    def timeouts(self) -> DependencyTimeouts:
        return DependencyTimeouts.share(self.app.dependency_budget_ms, self.redis)

    @model_validator(mode="after")
    def _timeouts_fit_the_budget(self) -> Settings:
        self.timeouts  # noqa: B018 - raises when the Redis timeouts set leave no room
        return self

    def refuse_weak_hash_key(self, key: str) -> str:
        """`key` (the keyed hashes' key, `secrets.hash_key`), refused when absent, a placeholder
        or shorter than 32 bytes, unless `APP_DEBUG=true`."""
        weak = key.strip().lower() in PLACEHOLDER_SECRETS or len(key.encode()) < MIN_SECRET_BYTES
        if weak and not self.app.debug:
            raise ValueError(
                "the hash key (the secret SECURITY_HASH_KEY_SECRET names, or SECURITY_HASH_KEY "
                "locally) is missing, a placeholder or shorter than 32 bytes; set a random value "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) or "
                "APP_DEBUG=true for local development"
            )
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
