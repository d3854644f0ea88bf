"""User and authentication bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.networks import validate_email

from todo_common.principal import Role
from todo_common.schemas.base import ApiModel, Instant, PatchModel, PublicModel, check_password
from todo_common.security.passwords import MAX_PASSWORD_BYTES

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$"
    ),
]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
# Passwords are taken exactly as typed: never stripped (login compares them as sent).
AsTyped = StringConstraints(strip_whitespace=False)
NewPassword = Annotated[
    str,
    AsTyped,
    # The length in characters bounds the bytes from below; the 72-byte limit is checked after.
    Field(description="8 to 72 UTF-8 bytes", min_length=8, max_length=72),
    AfterValidator(check_password),
]


# The longest address SMTP allows (64-byte local part, @, 255-byte domain).
MAX_EMAIL_LENGTH = 320


def _email(value: str) -> str:
    return validate_email(value)[1]


# The email of a login: bounded before it is parsed, and nothing that is not an email is looked
# up, counted or audited (the same rule for the JSON login and the OAuth2 form's `username`).
LoginEmail = Annotated[
    str,
    StringConstraints(max_length=MAX_EMAIL_LENGTH),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
# pydantic's `EmailStr`, validated and documented the same way. `EmailStr` asks
# `importlib.metadata` for email-validator's version each time a model uses it (~1 ms of a cold
# start each); `validate_email` checks it once, on the first address it validates.
Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]


class UserCreate(ApiModel):
    username: Username
    email: Email
    full_name: FullName
    password: NewPassword
    role: Role = Role.USER
    is_active: bool = True


class UserPatch(PatchModel):
    """PATCH /users/{id}: only the fields given change."""

    username: Username | None = None
    email: Email | None = None
    full_name: FullName | None = None
    password: NewPassword | None = None
    current_password: Annotated[str, AsTyped] | None = Field(
        default=None, description="Required to change one's own password (ADMINs reset without)"
    )
    role: Role | None = None
    is_active: bool | None = None


class UserReplace(UserPatch):
    """PUT /users/{id}: username, email and fullName are replaced; the rest as in PATCH."""

    username: Username
    email: Email
    full_name: FullName


class UserPublic(PublicModel):
    id: str
    username: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    version: int
    created_at: Instant
    updated_at: Instant


class OAuthModel(BaseModel):
    """Token endpoints keep the OAuth2 (snake_case) names."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def _within_bcrypt_limit(value: str) -> str:
    if len(value.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password must be at most {MAX_PASSWORD_BYTES} bytes (UTF-8)")
    return value


LoginPassword = Annotated[str, Field(min_length=1), AfterValidator(_within_bcrypt_limit)]


class LoginRequest(OAuthModel):
    email: LoginEmail
    password: LoginPassword


class RefreshRequest(OAuthModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class TokenResponse(OAuthModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class JsonWebKey(BaseModel):
    """One public key that verifies the API's tokens (RFC 7517 / 7518 §6.2: EC, P-256)."""

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str = Field(description="The x coordinate, base64url")
    y: str = Field(description="The y coordinate, base64url")
    kid: str = Field(description="What a token's `kid` header names")
    alg: Literal["ES256"]
    use: Literal["sig"]


class JsonWebKeySet(BaseModel):
    keys: list[JsonWebKey]
