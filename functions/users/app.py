"""The users function: authentication and the user directory (SPEC §4-§5)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Response, status
from fastapi.responses import JSONResponse

from todo_common import container, snapstart
from todo_common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from todo_common.http.app import create_app, lambda_handler
from todo_common.http.declared import problems
from todo_common.http.deps import Client, ClientIp, CurrentPrincipal, PageParams, service
from todo_common.http.records import Create, Read, Write, creates, read_route, soft_delete_routes
from todo_common.principal import Role
from todo_common.schemas.access_tokens import (
    AccessTokenCreate,
    AccessTokenPublic,
    AccessTokenWithValue,
)
from todo_common.schemas.base import ObjectIdStr, Page
from todo_common.schemas.sessions import SessionPublic
from todo_common.schemas.users import (
    JsonWebKeySet,
    LoginEmail,
    LoginPassword,
    LoginRequest,
    RefreshRequest,
    TokenResponse,
    UserCreate,
    UserPatch,
    UserPublic,
    UserReplace,
)
from todo_common.security.passwords import dummy_hash
from todo_common.security.tokens import TokenPair, TokenService
from todo_common.services.access_tokens import AccessTokenService
from todo_common.services.auth import AuthService
from todo_common.services.sessions import SessionService
from todo_common.services.users import UserService
from todo_common.settings import get_settings

Auth = Annotated[AuthService, Depends(service(container.auth_service))]
Users = Annotated[UserService, Depends(service(container.user_service))]
Tokens = Annotated[TokenService, Depends(service(container.token_service))]
Sessions = Annotated[SessionService, Depends(service(container.session_service))]
AccessTokens = Annotated[AccessTokenService, Depends(service(container.access_token_service))]

auth = APIRouter(prefix="/auth", tags=["auth"])
users = APIRouter(prefix="/users", tags=["users"])
keys = APIRouter(tags=["auth"])
# Other services cache the key set this long; a rotation publishes the new key well before it
# signs (docs/deploy.md), so a cached set always holds the keys of the tokens in use.
JWKS_MAX_AGE_SECONDS = 300


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@auth.post(
    "/login", response_model=TokenResponse, responses=problems(TooManyRequests, Unauthorized)
)
async def login(body: LoginRequest, service: Auth, client: Client) -> TokenResponse:
    return _tokens(service.login(str(body.email), body.password, client.address, client.user_agent))


@auth.post(
    "/token",
    response_model=TokenResponse,
    summary="Login (OAuth2 password form)",
    responses=problems(TooManyRequests, Unauthorized),
)
async def token(
    username: Annotated[LoginEmail, Form(description="The account's email")],
    password: Annotated[LoginPassword, Form()],
    service: Auth,
    client: Client,
) -> TokenResponse:
    return _tokens(service.login(username, password, client.address, client.user_agent))


@auth.post("/refresh", response_model=TokenResponse, responses=problems(Unauthorized))
async def refresh(body: RefreshRequest, service: Auth) -> TokenResponse:
    return _tokens(service.refresh(body.refresh_token))


@auth.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, service: Auth) -> Response:
    service.logout(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@keys.get(
    "/.well-known/jwks.json",
    response_model=JsonWebKeySet,
    summary="The public keys that verify the API's tokens (JWKS)",
)
async def jwks(service: Tokens, response: Response) -> JsonWebKeySet:
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return JsonWebKeySet.model_validate(service.jwks())


# --- Session control (issue 21.2) -------------------------------------------------------------
@auth.get(
    "/sessions",
    response_model=Page[SessionPublic],
    summary="List open sessions",
    responses=problems(Forbidden, InvalidInput),
)
async def list_sessions(
    principal: CurrentPrincipal,
    service: Sessions,
    user_id: Annotated[
        ObjectIdStr | None,
        Query(alias="userId", description="Whose sessions (an ADMIN's choice); the caller's"),
    ] = None,
) -> Page[SessionPublic]:
    records = service.list(principal, user_id)
    return Page[SessionPublic](
        items=[SessionPublic.of(r, principal) for r in records], next_cursor=None
    )


@auth.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End a session",
    responses=problems(NotFound),
)
async def end_session(session_id: str, principal: CurrentPrincipal, service: Sessions) -> Response:
    service.end(principal, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth.delete(
    "/sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every other session",
)
async def end_other_sessions(principal: CurrentPrincipal, service: Sessions) -> Response:
    service.end_others(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- Personal access tokens (issue 21.1) -------------------------------------------------------
@auth.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=AccessTokenWithValue,
    summary="Create a personal access token",
    responses=problems(Forbidden, InvalidInput),
)
async def create_access_token(
    body: AccessTokenCreate, principal: CurrentPrincipal, service: AccessTokens
) -> JSONResponse:
    """The answer holds the token (`todo_pat_…`), shown this once; creating one needs a
    session."""
    record, token = service.create(principal, body)
    return JSONResponse(
        AccessTokenWithValue.revealing(record, token).model_dump(mode="json", by_alias=True),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/auth/tokens/{record.id}"},
    )


@auth.get(
    "/tokens",
    response_model=Page[AccessTokenPublic],
    summary="List personal access tokens",
    responses=problems(Forbidden),
)
async def list_access_tokens(
    principal: CurrentPrincipal,
    service: AccessTokens,
    page: PageParams,
    user_id: Annotated[
        ObjectIdStr | None,
        Query(alias="userId", description="Whose tokens (an ADMIN's choice); the caller's"),
    ] = None,
) -> Page[AccessTokenPublic]:
    result = service.list(principal, user_id, **page)
    return Page[AccessTokenPublic].of(result, AccessTokenPublic.of)


@auth.get(
    "/tokens/{token_id}",
    response_model=AccessTokenPublic,
    summary="Read a personal access token",
    responses=problems(NotFound),
)
async def get_access_token(
    token_id: str, principal: CurrentPrincipal, service: AccessTokens
) -> AccessTokenPublic:
    return AccessTokenPublic.of(service.get(principal, token_id))


@auth.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a personal access token",
    responses=problems(NotFound),
)
async def revoke_access_token(
    token_id: str, principal: CurrentPrincipal, service: AccessTokens
) -> Response:
    service.revoke(principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users.get("/me", response_model=UserPublic)
async def me(read: Read, service: Users) -> UserPublic | Response:
    return read.answer(UserPublic.of(service.me(read.principal)))


@creates(users, UserPublic, Conflict, Forbidden, InvalidInput)
async def create_user(body: UserCreate, new: Create, service: Users) -> JSONResponse:
    return new.respond(body, lambda: UserPublic.of(service.create(new.principal, body)))


@users.get("", response_model=Page[UserPublic], responses=problems(Forbidden, InvalidInput))
async def list_users(
    principal: CurrentPrincipal,
    service: Users,
    page: PageParams,
    role: Role | None = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    sort: Annotated[
        str, Query(description="createdAt, updatedAt or username; '-' descends")
    ] = "createdAt",
) -> Page[UserPublic]:
    result = service.list(principal, role=role, is_active=is_active, q=q, sort=sort, **page)
    return Page[UserPublic].of(result, UserPublic.of)


read_route(users, "user", Users, UserPublic, Forbidden, NotFound)


@users.put(
    "/{user_id}",
    response_model=UserPublic,
    responses=problems(Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests),
)
async def replace_user(
    user_id: str, body: UserReplace, write: Write, service: Users, ip: ClientIp
) -> UserPublic:
    user = service.update(write.principal, user_id, body, write.if_match, ip)
    return write.answer(UserPublic.of(user))


@users.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses=problems(Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests),
)
async def patch_user(
    user_id: str, body: UserPatch, write: Write, service: Users, ip: ClientIp
) -> UserPublic:
    user = service.update(write.principal, user_id, body, write.if_match, ip)
    return write.answer(UserPublic.of(user))


soft_delete_routes(users, "user", Users, UserPublic)

app = create_app(title="Users", routers=[auth, users, keys])


def _warm_up() -> None:
    snapstart.imports("todo_common.services.auth", "todo_common.services.users")()
    # The hash an unknown email is checked against (bcrypt at full cost, once per container).
    dummy_hash(get_settings().security.bcrypt_rounds)


handler = lambda_handler(app, warm_up=_warm_up)
