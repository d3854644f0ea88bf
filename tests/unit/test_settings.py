"""Configuration (SPEC §4, §8): the original variable names, and a weak secret refused at start-up.

Each test starts from an environment with none of the API's variables and no `.env` in reach, then
sets what it needs, and constructs `Settings()` directly (never the cached `get_settings`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from pydantic import ValidationError
from pymongo import uri_parser

from todo_common.http import app as app_module
from todo_common.http.app import create_app
from todo_common.http.deps import CurrentPrincipal
from todo_common.principal import Principal
from todo_common.settings import Settings

PREFIXES = ("APP_", "SECURITY_", "DATABASE_", "LOG_", "REDIS_", "AUDIT_", "WEBHOOKS_")
STRONG_SECRET = secrets.token_urlsafe(48)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of the API set, and a working directory without a `.env`."""
    for name in list(os.environ):
        if name.startswith(PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """`Settings()` from `env` alone."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# --- the hash key (it replaced SECURITY_SECRET_KEY, which signs nothing any more: issue 19) ----


@pytest.mark.parametrize(
    "weak_key",
    ["changeme", "CHANGEME", " changeme ", "secret", "x" * 31, "€" * 10, ""],
    ids=["changeme", "upper-case", "padded", "secret", "31-bytes", "30-bytes-10-chars", "empty"],
)
def test_given_a_placeholder_or_short_hash_key_when_not_debugging_then_it_is_refused(
    monkeypatch: pytest.MonkeyPatch, weak_key: str
) -> None:
    settings = settings_with(monkeypatch, APP_DEBUG="false")

    with pytest.raises(ValueError, match="hash key"):
        settings.refuse_weak_hash_key(weak_key)


@pytest.mark.parametrize("key", ["changeme", "short"])
def test_given_a_weak_hash_key_and_app_debug_true_then_it_is_allowed(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    settings = settings_with(monkeypatch, APP_DEBUG="true")

    assert settings.refuse_weak_hash_key(key) == key


@pytest.mark.parametrize(
    "key", ["k" * 32, "€" * 11, STRONG_SECRET], ids=["32-bytes", "33-bytes-11-chars", "random"]
)
def test_given_a_hash_key_of_at_least_32_bytes_then_it_is_allowed(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    settings = settings_with(monkeypatch, APP_DEBUG="false")

    assert settings.refuse_weak_hash_key(key) == key


def test_given_no_token_keys_the_app_factory_refuses_an_app_with_protected_routes_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "get_settings", Settings)  # read anew: no key set
    public, protected = APIRouter(), APIRouter()

    @public.get("/pages")
    async def pages() -> dict[str, str]:
        return {}

    @protected.get("/mine")
    async def mine(principal: CurrentPrincipal) -> Principal:
        return principal

    create_app(title="Docs-like", routers=[public])  # starts: it never checks a token
    with pytest.raises(ValueError, match="SECURITY_JWT_VERIFY_KEY_IDS"):
        create_app(title="Users-like", routers=[protected])


# --- the original names --------------------------------------------------------------------------


# SPEC §8: every original variable name, and the added ones, reach their setting.
ORIGINAL_NAMES: list[tuple[str, str, str, object]] = [
    ("APP_NAME", "Team Tasks", "app.name", "Team Tasks"),
    ("APP_VERSION", "2.3.4", "app.version", "2.3.4"),
    ("APP_DESCRIPTION", "Ours", "app.description", "Ours"),
    ("APP_HOST", "0.0.0.0", "app.host", "0.0.0.0"),  # noqa: S104 - a value under test
    ("APP_PORT", "9001", "app.port", 9001),
    ("APP_RELOAD", "true", "app.reload", True),
    ("APP_API_DOCS_URL", "/swagger", "app.api_docs_url", "/swagger"),
    ("APP_REDOC_URL", "/rd", "app.redoc_url", "/rd"),
    ("APP_SCALARA_URL", "/sc", "app.scalara_url", "/sc"),
    ("APP_OPENAPI_URL", "/spec.json", "app.openapi_url", "/spec.json"),
    ("SECURITY_JWT_ALGORITHM", "ES256", "security.jwt_algorithm", "ES256"),  # the only one
    ("SECURITY_JWT_SIGNING_KEY_ID", "alias/k", "security.jwt_signing_key_id", "alias/k"),
    ("SECURITY_JWT_VERIFY_KEY_IDS", "a,b", "security.jwt_verify_key_ids", "a,b"),
    ("SECURITY_HASH_KEY_SECRET", "todo/x/h", "security.hash_key_secret", "todo/x/h"),
    ("DATABASE_URI_SECRET", "todo/x/d", "database.uri_secret", "todo/x/d"),
    ("REDIS_PASSWORD_SECRET", "todo/x/r", "redis.password_secret", "todo/x/r"),
    ("APP_SECRETS_MAX_AGE_SECONDS", "60", "app.secrets_max_age_seconds", 60),
    ("SECURITY_ACCESS_TOKEN_EXPIRE_MINUTES", "30", "security.access_token_expire_minutes", 30),
    ("SECURITY_REFRESH_TOKEN_EXPIRE_DAYS", "3", "security.refresh_token_expire_days", 3),
    ("SECURITY_JWT_ISSUER", "iss-x", "security.jwt_issuer", "iss-x"),
    ("SECURITY_JWT_AUDIENCE", "aud-x", "security.jwt_audience", "aud-x"),
    ("SECURITY_BCRYPT_ROUNDS", "10", "security.bcrypt_rounds", 10),
    ("DATABASE_NAME", "tasks_prod", "database.name", "tasks_prod"),
    ("LOG_LEVEL", "DEBUG", "log.level", "DEBUG"),
    ("LOG_FILE", "/tmp/todo.log", "log.file", "/tmp/todo.log"),  # noqa: S108
    ("LOG_RETENTION", "14", "log.retention", 14),
    ("LOG_ROTATION", "W0", "log.rotation", "W0"),
    ("LOG_HANDLERS", "console,file", "log.handlers", "console,file"),
    ("LOG_DATE_FORMAT", "%Y-%m-%d", "log.date_format", "%Y-%m-%d"),
    ("REDIS_HOST", "cache.internal", "redis.host", "cache.internal"),
    ("REDIS_PORT", "6380", "redis.port", 6380),
    ("REDIS_PASSWORD", "r3dis", "redis.password", "r3dis"),
    ("REDIS_DB", "2", "redis.db", 2),
    ("REDIS_USERNAME", "todo", "redis.username", "todo"),
    ("REDIS_SSL", "true", "redis.ssl", True),
    ("REDIS_SSL_CERT_REQS", "none", "redis.ssl_cert_reqs", "none"),
    ("REDIS_SOCKET_CONNECT_TIMEOUT", "0.5", "redis.socket_connect_timeout", 0.5),
    ("REDIS_SOCKET_TIMEOUT", "0.25", "redis.socket_timeout", 0.25),
    ("REDIS_CONNECTION_POOL_MAX_CONNECTIONS", "3", "redis.connection_pool_max_connections", 3),
    ("REDIS_DECODE_RESPONSES", "false", "redis.decode_responses", False),
    ("AUDIT_QUEUE_URL", "http://localhost:9324/q", "audit.queue_url", "http://localhost:9324/q"),
    ("AUDIT_DIGEST_PERIOD_SECONDS", "600", "audit.digest_period_seconds", 600),
    ("AUDIT_DIGEST_BUCKET", "digests-x", "audit.digest_bucket", "digests-x"),
    # A group's name is the variable's first word: the rate limits are SECURITY_RATE_LIMIT_*.
    ("SECURITY_RATE_LIMIT_REQUESTS", "90", "rate_limit.requests", 90),
    ("SECURITY_RATE_LIMIT_WINDOW_SECONDS", "30", "rate_limit.window_seconds", 30),
    ("SECURITY_TOKEN_MAX_FAILURES_PER_ADDRESS", "7", "security.token_max_failures_per_address", 7),
    ("WEBHOOKS_ALLOW_HTTP", "true", "webhooks.allow_http", True),
    ("WEBHOOKS_TIMEOUT_SECONDS", "2.5", "webhooks.timeout_seconds", 2.5),
    ("DATABASE_SERVER", "ferretdb", "database.server", "ferretdb"),
]


def _read(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize(
    ("variable", "value", "setting", "expected"),
    ORIGINAL_NAMES,
    ids=[row[0] for row in ORIGINAL_NAMES],
)
def test_given_an_original_variable_name_then_it_sets_its_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str, expected: object
) -> None:
    assert _read(settings_with(monkeypatch, **{variable: value}), setting) == expected


def test_given_a_dotenv_file_then_its_variables_set_settings_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "SECURITY_JWT_ISSUER=from-dotenv\nSECURITY_RATE_LIMIT_REQUESTS=42\nREDIS_PORT=6390\n"
        "UNRELATED_VARIABLE=ignored\n"
    )

    settings = settings_with(monkeypatch, REDIS_PORT="6391")

    assert settings.security.jwt_issuer == "from-dotenv"
    assert settings.rate_limit.requests == 42
    assert settings.redis.port == 6391


def test_given_a_bad_value_then_the_error_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError) as refused:
        settings_with(monkeypatch, SECURITY_RATE_LIMIT_REQUESTS="0")

    assert [error["loc"] for error in refused.value.errors()] == [
        ("security_rate_limit", "requests")
    ]


@pytest.mark.parametrize("log_format", ["text", "json", "csv"])
def test_given_a_supported_log_format_then_it_is_used(
    monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    assert settings_with(monkeypatch, LOG_FORMAT=log_format).log.format == log_format


@pytest.mark.parametrize("log_format", ["xml", "JSONL", "yaml"])
def test_given_an_unsupported_log_format_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    with pytest.raises(ValidationError):
        settings_with(monkeypatch, LOG_FORMAT=log_format)


def test_given_only_defaults_then_mongodb_is_local_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings_with(monkeypatch).database.connection_uri() == "mongodb://127.0.0.1:27017/"


def test_given_the_database_parts_then_they_build_a_uri_with_quoted_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a user and password holding URI delimiters, then the URI still parses back to them."""
    settings = settings_with(
        monkeypatch,
        DATABASE_HOST="db.internal",
        DATABASE_PORT="27018",
        DATABASE_USER="todo@app",
        DATABASE_PASSWORD="p@ss:w/rd?#%",
        DATABASE_AUTH_SOURCE="users",
    )

    uri = settings.database.connection_uri()
    parsed = uri_parser.parse_uri(uri)

    assert uri.startswith("mongodb://")
    assert "p@ss:w/rd" not in uri  # quoted, not raw
    assert parsed["username"] == "todo@app"
    assert parsed["password"] == "p@ss:w/rd?#%"
    assert parsed["nodelist"] == [("db.internal", 27018)]
    assert parsed["options"]["authSource"] == "users"


def test_given_database_uri_then_it_overrides_the_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    atlas = "mongodb+srv://todo:secret@cluster0.example.mongodb.net/?retryWrites=true"
    settings = settings_with(
        monkeypatch,
        DATABASE_URI=atlas,
        DATABASE_HOST="ignored.internal",
        DATABASE_PORT="1234",
        DATABASE_USER="ignored",
        DATABASE_PASSWORD="ignored",
    )

    assert settings.database.connection_uri() == atlas


# --- the dependency budget (SPEC §6: a 503 within 3 s) -------------------------------------------


def test_given_no_timeouts_set_then_one_mongodb_operation_and_one_redis_command_fit_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeouts = settings_with(monkeypatch).timeouts

    assert timeouts.budget_ms == 2500
    # /health asks both dependencies in turn: even then the budget holds
    assert timeouts.mongo_operation_ms / 1000 + timeouts.redis_command <= 2.5
    assert min(timeouts.redis_pool_wait, timeouts.redis_connect, timeouts.redis_socket) > 0


@pytest.mark.parametrize("budget_ms", ["300", "1000", "2500", "9000"])
def test_given_a_budget_then_every_timeout_derives_from_it(
    monkeypatch: pytest.MonkeyPatch, budget_ms: str
) -> None:
    timeouts = settings_with(monkeypatch, APP_DEPENDENCY_BUDGET_MS=budget_ms).timeouts

    budget = int(budget_ms) / 1000
    assert timeouts.mongo_operation_ms / 1000 + timeouts.redis_command == pytest.approx(budget)
    assert 0 < timeouts.mongo_operation_ms / 1000 < budget


def test_given_redis_timeouts_set_then_they_are_used_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeouts = settings_with(
        monkeypatch, REDIS_SOCKET_CONNECT_TIMEOUT="0.2", REDIS_SOCKET_TIMEOUT="0.3"
    ).timeouts

    assert (timeouts.redis_connect, timeouts.redis_socket) == (0.2, 0.3)
    assert timeouts.mongo_operation_ms / 1000 + timeouts.redis_command == pytest.approx(2.5)


@pytest.mark.parametrize(
    "env",
    [
        {"REDIS_SOCKET_TIMEOUT": "2.5"},
        {"REDIS_SOCKET_CONNECT_TIMEOUT": "1.0"},
        {"APP_DEPENDENCY_BUDGET_MS": "1000", "REDIS_SOCKET_TIMEOUT": "0.5"},
    ],
    ids=["socket-past-the-budget", "connect-past-the-budget", "small-budget"],
)
def test_given_redis_timeouts_that_would_pass_the_budget_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    with pytest.raises(ValidationError, match="APP_DEPENDENCY_BUDGET_MS"):
        settings_with(monkeypatch, **env)


@pytest.mark.parametrize("budget_ms", ["299", "9001", "abc"])
def test_given_a_budget_out_of_range_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, budget_ms: str
) -> None:
    with pytest.raises(ValidationError):
        settings_with(monkeypatch, APP_DEPENDENCY_BUDGET_MS=budget_ms)


@pytest.mark.parametrize(
    "variable", ["APP_DEPENDENCY_BUDGET_MS", "REDIS_SOCKET_CONNECT_TIMEOUT", "REDIS_SOCKET_TIMEOUT"]
)
def test_the_timeout_variables_are_in_env_example_with_a_comment(variable: str) -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    lines = [line for line in example.splitlines() if line.startswith(f"{variable}=")]
    assert len(lines) == 1, f"{variable} is not listed once in .env.example"
    assert "#" in lines[0], f"{variable} has no comment in .env.example"


def test_given_empty_redis_timeouts_as_in_env_example_then_they_derive_from_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_with(monkeypatch, REDIS_SOCKET_CONNECT_TIMEOUT="", REDIS_SOCKET_TIMEOUT="")

    assert settings.timeouts == settings_with(monkeypatch, APP_NAME="x").timeouts


# -- token keys (issue 19) --------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "RS256", "none"])
def test_given_another_jwt_algorithm_then_the_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, algorithm: str
) -> None:
    with pytest.raises(ValidationError, match="jwt_algorithm"):
        settings_with(monkeypatch, SECURITY_JWT_ALGORITHM=algorithm)


def test_given_a_signing_key_and_verifying_keys_then_the_signing_key_verifies_first_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_with(
        monkeypatch,
        SECURITY_JWT_SIGNING_KEY_ID="new",
        SECURITY_JWT_VERIFY_KEY_IDS=" old , new,,older ",
    )

    assert settings.security.verify_key_ids() == ("new", "old", "older")


def test_given_no_signing_key_then_only_the_listed_keys_verify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SECURITY_JWT_SIGNING_KEY_ID", raising=False)
    settings = settings_with(monkeypatch, SECURITY_JWT_VERIFY_KEY_IDS="a,b")

    assert settings.security.verify_key_ids() == ("a", "b")
