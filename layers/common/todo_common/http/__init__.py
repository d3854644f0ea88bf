"""The HTTP side every function shares: app factory, error mapping, dependencies, entry."""

from todo_common.http import lean_fastapi

# Before any route is declared: the functions import this package before their routers.
lean_fastapi.install()
