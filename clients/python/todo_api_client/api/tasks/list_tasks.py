import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.change_page_task_public import ChangePageTaskPublic
from ...models.page_task_public import PageTaskPublic
from ...models.problem import Problem
from ...models.task_status import TaskStatus
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    project_id: str | Unset = UNSET,
    assigned_to: str | Unset = UNSET,
    status: TaskStatus | Unset = UNSET,
    due_before: datetime.date | datetime.datetime | None | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["projectId"] = project_id

    params["assignedTo"] = assigned_to

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_due_before: None | str | Unset
    if isinstance(due_before, Unset):
        json_due_before = UNSET
    elif isinstance(due_before, datetime.datetime):
        json_due_before = due_before.isoformat()
    elif isinstance(due_before, datetime.date):
        json_due_before = due_before.isoformat()
    else:
        json_due_before = due_before
    params["dueBefore"] = json_due_before

    params["isActive"] = is_active

    params["sort"] = sort

    json_updated_since: None | str | Unset
    if isinstance(updated_since, Unset):
        json_updated_since = UNSET
    elif isinstance(updated_since, datetime.datetime):
        json_updated_since = updated_since.isoformat()
    elif isinstance(updated_since, datetime.date):
        json_updated_since = updated_since.isoformat()
    else:
        json_updated_since = updated_since
    params["updatedSince"] = json_updated_since

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/tasks",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> ChangePageTaskPublic | PageTaskPublic:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = ChangePageTaskPublic.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = PageTaskPublic.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = ValidationProblem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    assigned_to: str | Unset = UNSET,
    status: TaskStatus | Unset = UNSET,
    due_before: datetime.date | datetime.datetime | None | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem]:
    """List Tasks

    Args:
        project_id (str | Unset):
        assigned_to (str | Unset): A user id, or `me` for the caller
        status (TaskStatus | Unset):
        due_before (datetime.date | datetime.datetime | None | Unset):
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or dueDate; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        assigned_to=assigned_to,
        status=status,
        due_before=due_before,
        is_active=is_active,
        sort=sort,
        updated_since=updated_since,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    assigned_to: str | Unset = UNSET,
    status: TaskStatus | Unset = UNSET,
    due_before: datetime.date | datetime.datetime | None | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem | None:
    """List Tasks

    Args:
        project_id (str | Unset):
        assigned_to (str | Unset): A user id, or `me` for the caller
        status (TaskStatus | Unset):
        due_before (datetime.date | datetime.datetime | None | Unset):
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or dueDate; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem
    """

    return sync_detailed(
        client=client,
        project_id=project_id,
        assigned_to=assigned_to,
        status=status,
        due_before=due_before,
        is_active=is_active,
        sort=sort,
        updated_since=updated_since,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    assigned_to: str | Unset = UNSET,
    status: TaskStatus | Unset = UNSET,
    due_before: datetime.date | datetime.datetime | None | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem]:
    """List Tasks

    Args:
        project_id (str | Unset):
        assigned_to (str | Unset): A user id, or `me` for the caller
        status (TaskStatus | Unset):
        due_before (datetime.date | datetime.datetime | None | Unset):
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or dueDate; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        assigned_to=assigned_to,
        status=status,
        due_before=due_before,
        is_active=is_active,
        sort=sort,
        updated_since=updated_since,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    project_id: str | Unset = UNSET,
    assigned_to: str | Unset = UNSET,
    status: TaskStatus | Unset = UNSET,
    due_before: datetime.date | datetime.datetime | None | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem | None:
    """List Tasks

    Args:
        project_id (str | Unset):
        assigned_to (str | Unset): A user id, or `me` for the caller
        status (TaskStatus | Unset):
        due_before (datetime.date | datetime.datetime | None | Unset):
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or dueDate; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePageTaskPublic | PageTaskPublic | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            client=client,
            project_id=project_id,
            assigned_to=assigned_to,
            status=status,
            due_before=due_before,
            is_active=is_active,
            sort=sort,
            updated_since=updated_since,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
