from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_user_public import PageUserPublic
from ...models.problem import Problem
from ...models.role import Role
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    role: Role | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: str | Unset = "createdAt",
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_role: str | Unset = UNSET
    if not isinstance(role, Unset):
        json_role = role.value

    params["role"] = json_role

    params["isActive"] = is_active

    params["q"] = q

    params["sort"] = sort

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/users",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageUserPublic | Problem | ValidationProblem | None:
    if response.status_code == 200:
        response_200 = PageUserPublic.from_dict(response.json())

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
) -> Response[PageUserPublic | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    role: Role | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: str | Unset = "createdAt",
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[PageUserPublic | Problem | ValidationProblem]:
    """List Users

    Args:
        role (Role | Unset):
        is_active (bool | Unset):
        q (str | Unset):
        sort (str | Unset): createdAt, updatedAt or username; '-' descends Default: 'createdAt'.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageUserPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        role=role,
        is_active=is_active,
        q=q,
        sort=sort,
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
    role: Role | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: str | Unset = "createdAt",
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> PageUserPublic | Problem | ValidationProblem | None:
    """List Users

    Args:
        role (Role | Unset):
        is_active (bool | Unset):
        q (str | Unset):
        sort (str | Unset): createdAt, updatedAt or username; '-' descends Default: 'createdAt'.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageUserPublic | Problem | ValidationProblem
    """

    return sync_detailed(
        client=client,
        role=role,
        is_active=is_active,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    role: Role | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: str | Unset = "createdAt",
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[PageUserPublic | Problem | ValidationProblem]:
    """List Users

    Args:
        role (Role | Unset):
        is_active (bool | Unset):
        q (str | Unset):
        sort (str | Unset): createdAt, updatedAt or username; '-' descends Default: 'createdAt'.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageUserPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        role=role,
        is_active=is_active,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    role: Role | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: str | Unset = "createdAt",
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> PageUserPublic | Problem | ValidationProblem | None:
    """List Users

    Args:
        role (Role | Unset):
        is_active (bool | Unset):
        q (str | Unset):
        sort (str | Unset): createdAt, updatedAt or username; '-' descends Default: 'createdAt'.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageUserPublic | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            client=client,
            role=role,
            is_active=is_active,
            q=q,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
