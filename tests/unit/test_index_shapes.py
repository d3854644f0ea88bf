"""Every list query the repositories can build is served by a declared index, and the index
count grows linearly with the filters (repositories/shapes.py, issue 17).

The shapes teams use most (a project's tasks, a caller's own tasks, each with or without
`status`, in each sort) are one ESR range scan; every other shape is at least a scan bounded by a
leading equality prefix and the sort, with its other filters among the index keys. FerretDB scans
for everything but `_id`, so its plans prove nothing about MongoDB's; this checks the index design
itself: add a filter or a sort without its index and this fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product
from typing import Any

import pytest
from pymongo import IndexModel

from todo_common.principal import Role
from todo_common.records import TaskStatus
from todo_common.repositories.access_tokens import AccessTokenRepository
from todo_common.repositories.audits import NEWEST_FIRST, AuditRepository
from todo_common.repositories.base import MongoRepository
from todo_common.repositories.projects import SORT_FIELDS as PROJECT_SORTS
from todo_common.repositories.projects import ProjectRepository
from todo_common.repositories.shapes import (
    MERGED_IN_LIMIT,
    QueryShape,
    bounds,
    list_indexes,
    serves,
    shape_of,
)
from todo_common.repositories.tasks import EQUALITY_FILTERS as TASK_FILTERS
from todo_common.repositories.tasks import LIST_LEADS as TASK_LEADS
from todo_common.repositories.tasks import SORT_FIELDS as TASK_SORTS
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import SORT_FIELDS as USER_SORTS
from todo_common.repositories.users import UserRepository
from todo_common.repositories.webhooks import NEWEST_FIRST as DELIVERIES_ORDER
from todo_common.repositories.webhooks import OLDEST_FIRST as WEBHOOKS_ORDER
from todo_common.repositories.webhooks import DeliveryRepository, WebhookRepository
from todo_common.services.access_tokens import OLDEST_FIRST as TOKENS_ORDER
from todo_common.services.projects import SORTABLE as PROJECT_SORTABLE
from todo_common.services.tasks import SORTABLE as TASK_SORTABLE
from todo_common.services.users import SORTABLE as USER_SORTABLE

OID = "0123456789abcdef01234567"
REPOSITORIES = (UserRepository, AuditRepository, ProjectRepository, TaskRepository)
MAX_INDEXES = 12  # per collection, `_id` included


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


def _task_shapes(*, named: bool | None = None) -> list[tuple[str, QueryShape]]:
    """Every task list shape; with `named`, only those a team uses most (a project's tasks or a
    caller's own, not both), or only the others."""
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
        if named is None or named == ((project is None) != (assignee is None)):
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
def test_every_user_list_query_is_one_esr_scan(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in UserRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _project_shapes())
def test_every_project_list_query_is_one_esr_scan(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in ProjectRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _task_shapes(named=True))
def test_a_projects_tasks_and_a_callers_own_are_one_esr_scan(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in TaskRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _task_shapes(named=False))
def test_every_other_task_list_query_is_at_least_a_bounded_scan(
    label: str, shape: QueryShape
) -> None:
    assert any(bounds(_keys(ix), shape) for ix in TaskRepository.indexes), label


@pytest.mark.parametrize(("label", "shape"), _audit_shapes())
def test_every_audit_list_query_is_at_least_a_bounded_scan(label: str, shape: QueryShape) -> None:
    indexes = [_keys(ix) for ix in AuditRepository.indexes]
    if len(shape.equality) <= 1:  # no filter, or one: one ESR scan
        assert any(serves(keys, shape) for keys in indexes), label
    else:  # several: led by any one of them, the others checked on the index keys
        for field in shape.equality:
            assert any(bounds(keys, shape) and keys[0] == field for keys in indexes), label


def test_the_task_shapes_are_every_filter_combination_in_every_sort() -> None:
    # 2 isActive x 2 projectId x 2 assignedTo x 2 status x 2 dueBefore x 3 sorts
    assert len(_task_shapes(named=True)) + len(_task_shapes(named=False)) == 2**5 * 3


@pytest.mark.parametrize("repo", REPOSITORIES, ids=lambda r: r.collection_name)
def test_no_collection_declares_more_than_twelve_indexes(repo: type[MongoRepository]) -> None:
    assert len(repo.indexes) + 1 <= MAX_INDEXES  # `_id` is one of MongoDB's 64


def test_given_one_more_task_filter_then_the_design_grows_by_one_sort_set_at_most() -> None:
    # Given today's list indexes of the tasks
    today = list_indexes("tasks", TASK_LEADS, TASK_SORTS.values(), TASK_FILTERS, "dueSort")

    # When a filter (a priority, a label) is checked on the index keys, or leads lists of its own
    checked = list_indexes(
        "tasks", TASK_LEADS, TASK_SORTS.values(), (*TASK_FILTERS, "priority"), "dueSort"
    )
    leading = list_indexes(
        "tasks",
        (*TASK_LEADS, ("label", "isActive", "status")),
        TASK_SORTS.values(),
        (*TASK_FILTERS, "label"),
        "dueSort",
    )

    # Then the count stays, or grows by one index per sort (linearly: 2^n would double it)
    assert len(checked) == len(today)
    assert len(leading) == len(today) + len(TASK_SORTS)
    shape = shape_of(
        {**TaskRepository.list_query(is_active=True, project_id=OID), "priority": 1}, "createdAt"
    )
    assert any(bounds(_keys(ix), shape) for ix in checked)
    assert not any(bounds(_keys(ix), shape) for ix in today)


def test_given_a_query_without_a_status_then_it_asks_for_every_status() -> None:
    # One index then serves a project's tasks with and without `status` (shapes.py)
    query = TaskRepository.list_query(is_active=True, project_id=OID)
    assert query["status"] == {"$in": [s.value for s in TaskStatus]}


def _webhook_shapes() -> list[tuple[str, QueryShape]]:
    shapes = []
    for is_active, owner in product((True, False), (None, OID)):
        query = WebhookRepository.list_query(is_active=is_active, owner_id=owner)
        shapes.append((f"{query}", shape_of(query, WEBHOOKS_ORDER.field)))
    return shapes


@pytest.mark.parametrize(("label", "shape"), _webhook_shapes())
def test_every_webhook_list_query_has_an_esr_index(label: str, shape: QueryShape) -> None:
    assert any(serves(_keys(ix), shape) for ix in WebhookRepository.indexes), label


@pytest.mark.parametrize("repo", [TaskRepository, ProjectRepository])
def test_a_sync_page_is_one_esr_scan_on_an_index_the_lists_already_have(
    repo: type[MongoRepository],
) -> None:
    """`updatedSince` (services/sync.py): deleted and active records by `isActive $in`, the
    few-valued fields with all their values, then `updatedAt` and `_id`; no index added."""
    since = datetime(2026, 12, 1, tzinfo=UTC)
    shape = shape_of(repo.changes_query(since, datetime(2026, 12, 2, tzinfo=UTC)), "updatedAt")
    assert "isActive" in shape.equality
    assert not shape.range
    assert any(serves(_keys(ix), shape) for ix in repo.indexes)


def test_the_deliveries_of_a_webhook_have_an_esr_index() -> None:
    shape = shape_of({"webhookId": OID}, DELIVERIES_ORDER.field)
    assert any(serves(_keys(ix), shape) for ix in DeliveryRepository.indexes)


def test_a_users_access_tokens_have_an_esr_index_and_a_lookup_is_by_a_unique_hash() -> None:
    shape = shape_of(AccessTokenRepository.list_query(user_id=OID), TOKENS_ORDER.field)
    assert any(serves(_keys(ix), shape) for ix in AccessTokenRepository.indexes)
    by_hash = [ix.document for ix in AccessTokenRepository.indexes if _keys(ix) == ["tokenHash"]]
    assert [ix.get("unique") for ix in by_hash] == [True]


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
    assert not any(bounds(_keys(ix), shape) for ix in TaskRepository.indexes)


def test_given_a_short_in_list_then_it_is_an_equality_and_a_long_one_a_range() -> None:
    # MongoDB merges the scans of fewer than 200 values in sort order; more is a range scan
    short = shape_of({"status": {"$in": ["A", "B"]}}, "createdAt")
    long = shape_of({"status": {"$in": list(range(MERGED_IN_LIMIT))}}, "createdAt")
    assert short == QueryShape(frozenset({"status"}), "createdAt")
    assert long == QueryShape(frozenset(), "createdAt", frozenset({"status"}))


def test_given_a_filter_after_the_sort_then_the_scan_is_bounded_but_not_esr() -> None:
    shape = QueryShape(frozenset({"isActive", "assignedTo"}), "createdAt")
    keys = ["isActive", "createdAt", "_id", "assignedTo"]
    assert bounds(keys, shape)
    assert not serves(keys, shape)


def test_given_no_equality_field_leading_then_the_scan_is_not_bounded() -> None:
    # the sort alone would read the whole collection in order, checking each entry
    shape = QueryShape(frozenset({"assignedTo"}), "createdAt")
    assert not bounds(["createdAt", "_id", "assignedTo"], shape)
    assert bounds(["createdAt", "_id", "assignedTo"], QueryShape(frozenset(), "createdAt"))


def test_given_a_lead_the_query_does_not_match_then_the_index_does_not_bound_it() -> None:
    shape = QueryShape(frozenset({"isActive", "assignedTo"}), "createdAt")
    assert not bounds(["projectId", "isActive", "createdAt", "_id", "assignedTo"], shape)
