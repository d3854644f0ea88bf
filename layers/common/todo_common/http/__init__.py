"""The HTTP side every function shares: app factory, error mapping, dependencies, entry."""
