from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="UserPatch")


@_attrs_define
class UserPatch:
    """PATCH /users/{id}: only the fields given change.

    Attributes:
        username (str | Unset):
        email (str | Unset):
        full_name (str | Unset):
        password (str | Unset): 8 to 72 UTF-8 bytes
        current_password (str | Unset): Required to change one's own password (ADMINs reset without)
        role (Role | Unset):
        is_active (bool | Unset):
    """

    username: str | Unset = UNSET
    email: str | Unset = UNSET
    full_name: str | Unset = UNSET
    password: str | Unset = UNSET
    current_password: str | Unset = UNSET
    role: Role | Unset = UNSET
    is_active: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        username = self.username

        email = self.email

        full_name = self.full_name

        password = self.password

        current_password = self.current_password

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        is_active = self.is_active

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if username is not UNSET:
            field_dict["username"] = username
        if email is not UNSET:
            field_dict["email"] = email
        if full_name is not UNSET:
            field_dict["fullName"] = full_name
        if password is not UNSET:
            field_dict["password"] = password
        if current_password is not UNSET:
            field_dict["currentPassword"] = current_password
        if role is not UNSET:
            field_dict["role"] = role
        if is_active is not UNSET:
            field_dict["isActive"] = is_active

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        username = d.pop("username", UNSET)

        email = d.pop("email", UNSET)

        full_name = d.pop("fullName", UNSET)

        password = d.pop("password", UNSET)

        current_password = d.pop("currentPassword", UNSET)

        _role = d.pop("role", UNSET)
        role: Role | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = Role(_role)

        is_active = d.pop("isActive", UNSET)

        user_patch = cls(
            username=username,
            email=email,
            full_name=full_name,
            password=password,
            current_password=current_password,
            role=role,
            is_active=is_active,
        )

        return user_patch
