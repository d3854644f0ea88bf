"""Webhooks (issue 20): subscriptions, and signed, retried, SSRF-safe deliveries fed from the
audit trail after its records are stored (docs/decisions.md, "Webhooks")."""
