"""Security regression fixtures: the cast of an attack, over HTTP through `make dev`'s gateway.

One module per OWASP API Security Top 10 (2023) item that applies; each test names what an
attacker tries and what must happen. The shared gateway fixtures (`api`, `client`, `db`,
`user_with_token`…) come from `tests/gateway.py`; this package runs its own gateway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo.database import Database

from tests.factories import make_project, make_task
from tests.gateway import serve_gateway
from todo_common.principal import Role
from todo_common.records import Project, Task, User


@pytest.fixture(scope="package")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_gateway(tmp_path_factory) as url:
        yield url


@dataclass(frozen=True)
class Actor:
    user: User
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return self.user.id


@dataclass(frozen=True)
class Cast:
    """Who is who in an attack: the attacker of each role and the victims they aim at."""

    admin: Actor
    manager: Actor  # the attacking manager
    victim_manager: Actor
    user: Actor  # the attacking user
    victim: Actor  # another user
    victim_project: Project  # owned by victim_manager
    victim_task: Task  # in victim_project, assigned to victim


@pytest.fixture
def cast(
    db: Database[dict[str, Any]], user_with_token: Callable[..., tuple[User, dict[str, str]]]
) -> Cast:
    actors = {
        name: Actor(*user_with_token(role))
        for name, role in [
            ("admin", Role.ADMIN),
            ("manager", Role.MANAGER),
            ("victim_manager", Role.MANAGER),
            ("user", Role.USER),
            ("victim", Role.USER),
        ]
    }
    project = make_project(db, actors["victim_manager"].user, name="Victim's project")
    task = make_task(db, project, assignee=actors["victim"].user)
    return Cast(**actors, victim_project=project, victim_task=task)
