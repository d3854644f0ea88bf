import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.audit_action import AuditAction
from ...models.audit_entity import AuditEntity
from ...models.page_audit_public import PageAuditPublic
from ...models.problem import Problem
from ...models.validation_problem import ValidationProblem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    actor_id: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    entity: AuditEntity | Unset = UNSET,
    entity_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | None | Unset = UNSET,
    to: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    accept: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(accept, Unset):
        headers["accept"] = accept

    params: dict[str, Any] = {}

    params["actorId"] = actor_id

    json_action: str | Unset = UNSET
    if not isinstance(action, Unset):
        json_action = action.value

    params["action"] = json_action

    json_entity: str | Unset = UNSET
    if not isinstance(entity, Unset):
        json_entity = entity.value

    params["entity"] = json_entity

    params["entityId"] = entity_id

    json_from_: None | str | Unset
    if isinstance(from_, Unset):
        json_from_ = UNSET
    elif isinstance(from_, datetime.datetime):
        json_from_ = from_.isoformat()
    elif isinstance(from_, datetime.date):
        json_from_ = from_.isoformat()
    else:
        json_from_ = from_
    params["from"] = json_from_

    json_to: None | str | Unset
    if isinstance(to, Unset):
        json_to = UNSET
    elif isinstance(to, datetime.datetime):
        json_to = to.isoformat()
    elif isinstance(to, datetime.date):
        json_to = to.isoformat()
    else:
        json_to = to
    params["to"] = json_to

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/audits",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageAuditPublic | Problem | ValidationProblem | None:
    if response.status_code == 200:
        response_200 = PageAuditPublic.from_dict(response.json())

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
) -> Response[PageAuditPublic | Problem | ValidationProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    actor_id: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    entity: AuditEntity | Unset = UNSET,
    entity_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | None | Unset = UNSET,
    to: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    accept: str | Unset = UNSET,
) -> Response[PageAuditPublic | Problem | ValidationProblem]:
    """List Audits

    Args:
        actor_id (str | Unset):
        action (AuditAction | Unset):
        entity (AuditEntity | Unset):
        entity_id (str | Unset):
        from_ (datetime.date | datetime.datetime | None | Unset):
        to (datetime.date | datetime.datetime | None | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        accept (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageAuditPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
        accept=accept,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    actor_id: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    entity: AuditEntity | Unset = UNSET,
    entity_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | None | Unset = UNSET,
    to: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    accept: str | Unset = UNSET,
) -> PageAuditPublic | Problem | ValidationProblem | None:
    """List Audits

    Args:
        actor_id (str | Unset):
        action (AuditAction | Unset):
        entity (AuditEntity | Unset):
        entity_id (str | Unset):
        from_ (datetime.date | datetime.datetime | None | Unset):
        to (datetime.date | datetime.datetime | None | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        accept (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageAuditPublic | Problem | ValidationProblem
    """

    return sync_detailed(
        client=client,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
        accept=accept,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    actor_id: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    entity: AuditEntity | Unset = UNSET,
    entity_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | None | Unset = UNSET,
    to: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    accept: str | Unset = UNSET,
) -> Response[PageAuditPublic | Problem | ValidationProblem]:
    """List Audits

    Args:
        actor_id (str | Unset):
        action (AuditAction | Unset):
        entity (AuditEntity | Unset):
        entity_id (str | Unset):
        from_ (datetime.date | datetime.datetime | None | Unset):
        to (datetime.date | datetime.datetime | None | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        accept (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageAuditPublic | Problem | ValidationProblem]
    """

    kwargs = _get_kwargs(
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
        accept=accept,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    actor_id: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    entity: AuditEntity | Unset = UNSET,
    entity_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | None | Unset = UNSET,
    to: datetime.date | datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    accept: str | Unset = UNSET,
) -> PageAuditPublic | Problem | ValidationProblem | None:
    """List Audits

    Args:
        actor_id (str | Unset):
        action (AuditAction | Unset):
        entity (AuditEntity | Unset):
        entity_id (str | Unset):
        from_ (datetime.date | datetime.datetime | None | Unset):
        to (datetime.date | datetime.datetime | None | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        accept (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageAuditPublic | Problem | ValidationProblem
    """

    return (
        await asyncio_detailed(
            client=client,
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            from_=from_,
            to=to,
            limit=limit,
            cursor=cursor,
            accept=accept,
        )
    ).parsed
