"""Business rules: permissions (through `rbac`), state changes, session effects."""
