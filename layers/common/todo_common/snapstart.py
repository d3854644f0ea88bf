"""Lambda SnapStart: what runs before the snapshot, and after every restore from it.

With SnapStart, Lambda runs a function's INIT once, when a version is published, and resumes every
new execution environment from a snapshot of its memory. So:
- before the snapshot, everything a first request needs is imported and built (the app and its
  validators, each function's own warm-up, e.g. the docs function's OpenAPI document), and the
  connections made meanwhile are closed: a socket in a snapshot would be shared by every
  environment resumed from it, and its server has long forgotten it;
- after each restore, fresh MongoDB and Redis clients are created, `random` is reseeded (every
  environment would otherwise draw the same numbers), and what is bound to the time of the
  snapshot is dropped: the SQS client and its AWS credentials, cached repositories holding the
  old clients.

The hooks are registered with `snapshot_restore_py`, which the Lambda Python runtime (and
`awslambdaric`) provides; tests call `before_snapshot()` and `after_restore()` themselves.
Without SnapStart they never run and cost nothing.
"""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable

from todo_common.logs import logger

Step = Callable[[], object]

_before: list[Step] = []
_after: list[Step] = []


def register(*, before: Step | None = None, after: Step | None = None) -> None:
    """Add one function's steps: `before` builds what its first request needs, `after` drops
    a cache of its own that holds a client."""
    if before is not None:
        _before.append(before)
    if after is not None:
        _after.append(after)


def imports(*modules: str) -> Step:
    """A step importing `modules`: the services a function's routes load on first use."""

    def import_all() -> None:
        for name in modules:
            importlib.import_module(name)

    return import_all


def before_snapshot() -> None:
    """Build what a first request needs, then close every connection made while doing so."""
    from todo_common import secrets_manager

    secrets_manager.read_all()  # a function that cannot read its secrets refuses to start
    for step in _before:
        step()
    _forget_clients()
    logger.info("Ready for the snapshot", extra={"steps": len(_before)})


def after_restore() -> None:
    """A resumed environment: new clients, a new random seed, nothing time-bound kept."""
    _forget_clients()
    if _SECRETS in sys.modules:  # its client's credentials are the snapshot's
        from todo_common import secrets_manager

        secrets_manager.forget_client()
    random.seed()
    for step in _after:
        step()
    if _CLIENTS in sys.modules:  # a function that talks to MongoDB and Redis
        from todo_common import clients

        # Created now (no connection is made yet): the first request finds them ready.
        clients.get_mongo_client()
        clients.get_redis()


# Looked up in sys.modules, not imported: the docs function uses neither, and stays lean.
_CLIENTS = "todo_common.clients"
_SECRETS = "todo_common.secrets_manager"
_CONTAINER = "todo_common.container"


def _forget_clients() -> None:
    if _CONTAINER in sys.modules:
        from todo_common import container

        container.reset()  # repositories and services holding the clients, and the SQS client
    if _CLIENTS in sys.modules:
        from todo_common import clients

        clients.close_clients()


try:
    from snapshot_restore_py import (  # type: ignore[import-untyped]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:  # neither a Lambda runtime nor the development environment: no SnapStart
    pass
else:  # once per process: this module is imported once
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
