"""Lambda entry of the HTTP API authorizer; the code lives in the common layer."""

from todo_common.authorizer import handler

__all__ = ["handler"]
