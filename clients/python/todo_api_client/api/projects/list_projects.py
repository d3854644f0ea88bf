import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.change_page_project_public import ChangePageProjectPublic
from ...models.page_project_public import PageProjectPublic
from ...models.problem import Problem
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    owner_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["ownerId"] = owner_id

    params["q"] = q

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
        "url": "/projects",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> ChangePageProjectPublic | PageProjectPublic:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = ChangePageProjectPublic.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = PageProjectPublic.from_dict(data)

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
) -> Response[ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    owner_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem]:
    """List Projects

    Args:
        owner_id (str | Unset):
        q (str | Unset): Case-insensitive name prefix
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or name; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        owner_id=owner_id,
        q=q,
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
    owner_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem | None:
    """List Projects

    Args:
        owner_id (str | Unset):
        q (str | Unset): Case-insensitive name prefix
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or name; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem
    """

    return sync_detailed(
        client=client,
        owner_id=owner_id,
        q=q,
        is_active=is_active,
        sort=sort,
        updated_since=updated_since,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    owner_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem]:
    """List Projects

    Args:
        owner_id (str | Unset):
        q (str | Unset): Case-insensitive name prefix
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or name; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        owner_id=owner_id,
        q=q,
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
    owner_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    sort: str | Unset = "createdAt",
    updated_since: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem | None:
    """List Projects

    Args:
        owner_id (str | Unset):
        q (str | Unset): Case-insensitive name prefix
        is_active (bool | Unset):
        sort (str | Unset): createdAt, updatedAt or name; '-' descends Default: 'createdAt'.
        updated_since (datetime.date | datetime.datetime | None | Unset): Sync: the records
            written since this instant, oldest write first, deleted ones as tombstones, and
            `nextSince` for the next sync. No other filter, and `sort` only `updatedAt`
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePageProjectPublic | PageProjectPublic | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            client=client,
            owner_id=owner_id,
            q=q,
            is_active=is_active,
            sort=sort,
            updated_since=updated_since,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
