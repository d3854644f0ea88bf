"""Test-wide settings. They are set before any `todo_common` import, because settings are read once.

bcrypt runs at cost 4 here to keep the suite fast; `make bench` measures the configured cost (12).
"""

from __future__ import annotations

import os

# The secrets (database URI, Redis password, hash key) come from moto's Secrets Manager, which
# `scripts/servers.py` fills, as in AWS (todo_common/secrets_manager.py).
os.environ.setdefault("SECURITY_BCRYPT_ROUNDS", "4")
os.environ.setdefault("DATABASE_NAME", "todo_test")
os.environ.setdefault("APP_DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "todo-api-tests")
os.environ.setdefault("TODO_LOCAL_GATEWAY", "1")
# The token key `scripts/servers.py` creates in moto, so that a function loads without the
# servers too (`make test-unit`); its public key is read only when a token is checked.
os.environ.setdefault("SECURITY_JWT_VERIFY_KEY_IDS", "alias/todo-tokens")
# The relay sends any waiting audit event at once (in AWS it leaves the last 30 s to the sender).
os.environ.setdefault("AUDIT_RELAY_MIN_AGE_SECONDS", "0")
# Webhook retries 2 s, 4 s, 8 s… apart (30 s, 60 s… in AWS), so a retried delivery takes seconds.
os.environ.setdefault("WEBHOOKS_RETRY_BASE_SECONDS", "2")
# Receivers on loopback only, and no webhook host resolved through DNS (the network rule).
os.environ.setdefault("WEBHOOKS_LOOPBACK_ONLY", "true")
os.environ.setdefault("WEBHOOKS_ALLOW_HTTP", "true")
os.environ.setdefault("WEBHOOKS_ALLOW_LOOPBACK", "true")
# A sync answer stops 0.5 s behind now (5 s in AWS), so a test sees its writes synced in a second.
os.environ.setdefault("APP_SYNC_SETTLE_SECONDS", "0.5")

# The fixtures of the tests over HTTP through the local gateway (e2e, security, faults).
pytest_plugins = ["tests.gateway"]
