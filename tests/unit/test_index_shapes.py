"""Every list query the repositories can build is served by a declared index (ESR rule).

FerretDB scans for everything but `_id`, so its plans prove nothing about MongoDB's; this checks
the index design itself: add a filter or a sort without its index and this fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product
from typing import Any

import pytest
from pymongo import IndexModel

from todo_common.models import Role, TaskStatus
from todo_common.repositories.audits import NEWEST_FIRST, AuditRepository
from todo_common.repositories.projects import SORT_FIELDS as PROJECT_SORTS
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.shapes import QueryShape, serves, shape_of
from todo_common.repositories.tasks import SORT_FIELDS as TASK_SORTS
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import SORT_FIELDS as USER_SORTS
from todo_common.repositories.users import UserRepository
from todo_common.repositories.webhooks import NEWEST_FIRST as DELIVERIES_ORDER
from todo_common.repositories.webhooks import OLDEST_FIRST as WEBHOOKS_ORDER
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository
from todo_common.services.projects import SORTABLE as PROJECT_SORTABLE
from todo_common.services.tasks import SORTABLE as TASK_SORTABLE
from todo_common.services.users import SORTABLE as USER_SORTABLE

OID = "0123456789abcdef01234567"


def _keys(index: IndexModel) -> list[str]:
    return [field for field, _direction in index.document["key"].items()]


def _project_shapes() -> list[tuple[str, QueryShape]]:
    shapes = []
    for is_active, owner, q, sort in product(
        (True, False), (None, OID), (None, "apo"), sorted(PROJECT_SORTABLE)
    ):
        query = ProjectRepository.list_query(is_active=is_active, owner_id=owner, q=q)
        shapes.append((f"{query} sort={sort}", shape_of(query, PROJECT_SORTS[sort])))
    return shapes


def _task_shapes() -> list[tuple[str, QueryShape]]:
    shapes = []
    due = datetime(2026, 12, 1, tzinfo=UTC)
    for is_active, project, assignee, status, due_before, sort in product(
        (True, False),
        (None, OID),
        (None, OID),
        (None, TaskStatus.PENDING),
        (None, due),
        sorted(TASK_SORTABLE),
    ):
        query: dict[str, Any] = TaskRepository.list_query(
            is_active=is_active,
            project_id=project,
            assigned_to=assignee,
            status=status,
            due_before=due_before,
        )
        shapes.append((f"{query} sort={sort}", shape_of(query, TASK_SORTS[sort])))
    return shapes


def _user_shapes() -> list[tuple[str, QueryShape]]:
    shapes = []
    for role, is_active, q, sort in product(
        (None, Role.MANAGER), (None, True, False), (None, "ann"), sorted(USER_SORTABLE)
    ):
        query = UserRepository.list_query(role=role, is_active=is_active, q=q)
        shapes.append((f"{query} sort={sort}", shape_of(query, USER_SORTS[sort])))
    return shapes


def _audit_shapes() -> list[tuple[str, QueryShape]]:
    shapes = []
    when = datetime(2026, 12, 1, tzinfo=UTC)
    for actor, action, entity, entity_id, from_, to in product(
        (None, OID), (None, "LOGIN"), (None, "TASK"), (None, OID), (None, when), (None, when)
    ):
        query = AuditRepository.list_query(
            actor_id=actor, action=action, entity=entity, entity_id=entity_id, from_=from_, to=to
        )
        shapes.append((f"{query}", shape_of(query, NEWEST_FIRST.field)))
    return shapes


@pytest.mark.parametrize(("label", "shape"), _user_shapes())
def test_every_user_list_query_has_an_esr_index(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in UserRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _audit_shapes())
def test_every_audit_list_query_has_an_esr_index(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in AuditRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _project_shapes())
def test_every_project_list_query_has_an_esr_index(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in ProjectRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _task_shapes())
def test_every_task_list_query_has_an_esr_index(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in TaskRepository.indexes), label


def _webhook_shapes() -> list[tuple[str, QueryShape]]:
    shapes = []
    for is_active, owner in product((True, False), (None, OID)):
        query = WebhookRepository.list_query(is_active=is_active, owner_id=owner)
        shapes.append((f"{query}", shape_of(query, WEBHOOKS_ORDER.field)))
    return shapes


@pytest.mark.parametrize(("label", "shape"), _webhook_shapes())
def test_every_webhook_list_query_has_an_esr_index(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in WebhookRepository.indexes), label


def test_the_deliveries_of_a_webhook_have_an_esr_index() -> None:
    shape = shape_of({"webhookId": OID}, DELIVERIES_ORDER.field)
    assert any(serves(_keys(ix), shape) for ix in DeliveryRepository.indexes)


def test_given_an_index_with_the_sort_before_an_equality_field_then_it_does_not_serve() -> None:
    shape = QueryShape(frozenset({"isActive", "projectId"}), "createdAt")
    assert not serves(["isActive", "createdAt", "_id", "projectId"], shape)
    assert serves(["projectId", "isActive", "createdAt", "_id"], shape)


def test_given_a_range_field_before_the_sort_then_the_index_does_not_serve() -> None:
    shape = QueryShape(frozenset({"isActive"}), "createdAt", frozenset({"dueSort"}))
    assert not serves(["isActive", "dueSort", "createdAt", "_id"], shape)
    assert serves(["isActive", "createdAt", "_id", "dueSort"], shape)


def test_given_a_filter_the_rule_cannot_place_then_shape_of_refuses_it() -> None:
    with pytest.raises(ValueError, match=r"\$or"):
        shape_of({"$or": [{"a": 1}, {"b": 2}]}, "createdAt")


def test_given_a_new_task_filter_without_an_index_then_the_check_fails() -> None:
    query = {**TaskRepository.list_query(is_active=True), "createdBy": OID}
    shape = shape_of(query, "createdAt")
    assert not any(serves(_keys(ix), shape) for ix in TaskRepository.indexes)
