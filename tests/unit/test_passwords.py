"""Passwords (SPEC §4): bcrypt, 8 to 72 UTF-8 bytes, never silently truncated; and the API bodies
that carry them (camelCase, unknown fields refused, no null where a value is required).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from todo_common.schemas.users import LoginRequest, UserCreate, UserPatch
from todo_common.security.passwords import dummy_hash, hash_password, verify_password

ROUNDS = 4  # the lowest bcrypt cost; the rules under test do not depend on it
EURO = "€"  # three bytes in UTF-8


def ascii_password(size: int) -> str:
    """A password of exactly `size` UTF-8 bytes (and characters)."""
    return ("pass-word-" * 10)[:size]


def user_create_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /users body as a client sends it (camelCase)."""
    body: dict[str, Any] = {
        "username": "ada.lovelace",
        "email": "ada@example.com",
        "fullName": "Ada Lovelace",
        "password": ascii_password(12),
    }
    body.update(overrides)
    return body


# --- length in bytes -----------------------------------------------------------------------------


def test_euro_sign_is_three_bytes() -> None:
    """Guards the multi-byte cases below: they only mean something if "€" is 3 bytes."""
    assert len(EURO.encode("utf-8")) == 3


@pytest.mark.parametrize(
    "password",
    [ascii_password(8), ascii_password(72), EURO * 19, EURO * 24, EURO * 3],
    ids=["8-bytes", "72-bytes", "19-euros-57-bytes", "24-euros-72-bytes", "3-euros-9-bytes"],
)
def test_given_8_to_72_utf8_bytes_when_hashed_then_the_password_verifies(password: str) -> None:
    password_hash = hash_password(password, ROUNDS)

    assert verify_password(password, password_hash)
    assert not verify_password(password + "x", password_hash)


@pytest.mark.parametrize(
    "password",
    [ascii_password(7), ascii_password(73), EURO * 25, EURO * 2, ""],
    ids=["7-bytes", "73-bytes", "25-euros-75-bytes", "2-euros-6-bytes", "empty"],
)
def test_given_fewer_than_8_or_more_than_72_bytes_when_hashed_then_it_is_refused(
    password: str,
) -> None:
    with pytest.raises(ValueError, match="password must be"):
        hash_password(password, ROUNDS)


def test_given_a_73_byte_password_then_it_never_verifies_against_its_72_byte_prefix() -> None:
    """bcrypt itself ignores byte 73 onwards; the API must not let that truncation through."""
    prefix = ascii_password(72)
    prefix_hash = hash_password(prefix, ROUNDS)

    assert not verify_password(prefix + "!", prefix_hash)
    assert not verify_password(prefix + EURO, prefix_hash)


def test_given_the_same_password_twice_then_the_hashes_differ_but_both_verify() -> None:
    """A fresh salt each time: equal passwords are not visible as equal hashes in the database."""
    first, second = hash_password("same-password", ROUNDS), hash_password("same-password", ROUNDS)

    assert first != second
    assert verify_password("same-password", first)
    assert verify_password("same-password", second)


def test_given_a_configured_cost_then_the_hash_records_it() -> None:
    assert hash_password("cost-check-pw", 5).startswith("$2b$05$")


@pytest.mark.parametrize(
    "malformed",
    ["", "not-a-hash", "$2b$04$tooshort", "plaintext-password", "$2b$04$" + "é" * 53],
    ids=["empty", "word", "truncated-bcrypt", "plaintext", "non-ascii"],
)
def test_given_a_malformed_stored_hash_when_verifying_then_it_is_false_not_an_error(
    malformed: str,
) -> None:
    assert verify_password("plaintext-password", malformed) is False


def test_given_the_dummy_hash_then_it_is_a_real_bcrypt_hash_at_the_configured_cost() -> None:
    """Checked when the user does not exist, so it must cost what a real check costs."""
    assert dummy_hash(ROUNDS).startswith(f"$2b$0{ROUNDS}$")
    assert dummy_hash(ROUNDS) == dummy_hash(ROUNDS)


@pytest.mark.parametrize(
    "guess",
    ["password", "correct-horse-9", "admin-password-123", "changeme", ascii_password(72)],
)
def test_given_the_dummy_hash_then_no_real_password_verifies_against_it(guess: str) -> None:
    assert verify_password(guess, dummy_hash(ROUNDS)) is False


# --- the API bodies ------------------------------------------------------------------------------


def test_given_a_camel_case_body_when_creating_a_user_then_the_aliases_fill_the_fields() -> None:
    created = UserCreate.model_validate(user_create_body(isActive=False, role="MANAGER"))

    assert created.full_name == "Ada Lovelace"
    assert created.is_active is False
    assert created.role == "MANAGER"
    assert created.model_dump(by_alias=True)["fullName"] == "Ada Lovelace"
    assert "isActive" in created.model_dump(by_alias=True)


@pytest.mark.parametrize(
    "password",
    [ascii_password(73), EURO * 25, ascii_password(7)],
    ids=["73-bytes", "25-euros-75-bytes", "7-bytes"],
)
def test_given_a_password_outside_8_to_72_bytes_when_creating_a_user_then_it_is_422(
    password: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        UserCreate.model_validate(user_create_body(password=password))

    assert [error["loc"] for error in refused.value.errors()] == [("password",)]


def test_given_a_72_byte_password_when_creating_a_user_then_it_is_accepted() -> None:
    assert UserCreate.model_validate(user_create_body(password=ascii_password(72))).password


@pytest.mark.parametrize("field", ["passwordHash", "version", "id", "createdAt", "admin"])
def test_given_an_unknown_field_when_creating_a_user_then_it_is_refused(field: str) -> None:
    """Mass assignment is impossible: a field the schema does not name is a 422, not ignored."""
    with pytest.raises(ValidationError) as refused:
        UserCreate.model_validate(user_create_body(**{field: "x"}))

    assert refused.value.errors()[0]["type"] == "extra_forbidden"


def test_given_an_unknown_field_when_patching_a_user_then_it_is_refused() -> None:
    with pytest.raises(ValidationError):
        UserPatch.model_validate({"fullName": "New Name", "passwordHash": "$2b$04$x"})


def test_given_a_camel_case_patch_then_only_the_fields_sent_are_changes() -> None:
    patch = UserPatch.model_validate({"fullName": "Grace Hopper", "isActive": False})

    assert patch.changes() == {"full_name": "Grace Hopper", "is_active": False}


@pytest.mark.parametrize("field", ["email", "fullName", "username", "role", "isActive"])
def test_given_an_explicit_null_for_a_required_value_when_patching_then_it_is_refused(
    field: str,
) -> None:
    with pytest.raises(ValidationError, match=f"{field} may not be null"):
        UserPatch.model_validate({field: None})


def test_given_a_73_byte_password_when_logging_in_then_the_body_is_refused() -> None:
    with pytest.raises(ValidationError):
        LoginRequest.model_validate({"email": "ada@example.com", "password": ascii_password(73)})


def test_given_a_72_byte_password_when_logging_in_then_the_body_is_accepted() -> None:
    login = LoginRequest.model_validate(
        {"email": "ada@example.com", "password": ascii_password(72)}
    )

    assert login.password == ascii_password(72)


def test_given_an_unknown_field_when_logging_in_then_the_body_is_refused() -> None:
    with pytest.raises(ValidationError):
        LoginRequest.model_validate(
            {"email": "ada@example.com", "password": "pass-word-1", "role": "ADMIN"}
        )


@pytest.mark.parametrize("password", ["  padded-password  ", "trailing-space ", "\ttabbed-pass"])
def test_given_a_password_with_outer_whitespace_when_creating_a_user_then_it_is_kept_as_typed(
    password: str,
) -> None:
    """Login compares the password exactly as typed (`LoginRequest` does not strip), so the one
    stored at creation must be exactly what was typed too, or the user can never log in."""
    created = UserCreate.model_validate(user_create_body(password=password))
    login = LoginRequest.model_validate({"email": "ada@example.com", "password": password})

    assert created.password == login.password == password


def test_given_a_new_password_with_outer_whitespace_when_patching_then_it_is_kept() -> None:
    patch = UserPatch.model_validate(
        {"password": " new-password ", "currentPassword": " old-password "}
    )

    assert (patch.password, patch.current_password) == (" new-password ", " old-password ")
