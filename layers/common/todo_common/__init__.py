"""Shared Lambda layer of the Todo API: settings, data, security, RBAC and the app factory."""
