"""Configuration from the environment (and an optional `.env`), with the original variable names.

Each group reads its own prefix (`APP_`, `SECURITY_`, `DATABASE_`, `LOG_`, `REDIS_`, `AUDIT_`), so
`SECURITY_SECRET_KEY` is `settings.security.secret_key`. Settings are read once per container.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import quote_plus

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "your-secret-key", "please-change-me", "dev-secret"}
)
MIN_SECRET_BYTES = 32


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class AppSettings(BaseSettings):
    model_config = _config("APP_")

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


class SecuritySettings(BaseSettings):
    model_config = _config("SECURITY_")

    secret_key: str = ""
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
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


class DatabaseSettings(BaseSettings):
    model_config = _config("DATABASE_")

    uri: str | None = None
    # Which server the URI points at: `ferretdb` switches on what the local server needs
    # (todo_common/database_server.py); scripts/servers.py sets it for the one it starts.
    server: Literal["mongodb", "ferretdb"] = "mongodb"
    host: str = "127.0.0.1"
    port: int = 27017
    name: str = "todo"
    user: str | None = None
    password: str | None = None
    auth_source: str = "admin"
    server_selection_timeout_ms: int = 2000
    connect_timeout_ms: int = 2000
    socket_timeout_ms: int = 5000
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


class LogSettings(BaseSettings):
    model_config = _config("LOG_")

    level: str = "INFO"
    format: Literal["text", "json", "csv"] = "text"
    file: str | None = None
    retention: int = Field(default=7, ge=1, description="rotated files kept")
    rotation: str = "midnight"
    handlers: str = "console"
    date_format: str = "%Y-%m-%dT%H:%M:%S%z"


class RedisSettings(BaseSettings):
    model_config = _config("REDIS_")

    host: str = "127.0.0.1"
    port: int = 6379
    password: str | None = None
    db: int = 0
    username: str | None = None
    ssl: bool = False
    ssl_cert_reqs: Literal["required", "optional", "none"] = "required"
    socket_connect_timeout: float = 1.0
    socket_timeout: float = 1.0
    connection_pool_max_connections: int = 10
    decode_responses: bool = True


class AuditSettings(BaseSettings):
    model_config = _config("AUDIT_")

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


class Settings(BaseSettings):
    """All settings; refuses a weak `SECURITY_SECRET_KEY` unless `APP_DEBUG=true`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app: AppSettings = Field(default_factory=AppSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        key = self.security.secret_key
        weak = key.strip().lower() in PLACEHOLDER_SECRETS or len(key.encode()) < MIN_SECRET_BYTES
        if weak and not self.app.debug:
            raise ValueError(
                "SECURITY_SECRET_KEY is a placeholder or shorter than 32 bytes; set a random "
                "value (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) "
                "or APP_DEBUG=true for local development"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
