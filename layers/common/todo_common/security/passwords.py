"""bcrypt password hashing (no passlib). Passwords are 8 to 72 UTF-8 bytes, never truncated."""

from __future__ import annotations

from functools import lru_cache

import bcrypt

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's own limit; longer input is refused rather than cut


def password_problem(password: str) -> str | None:
    """Why `password` is unacceptable, or None when it is fine."""
    size = len(password.encode("utf-8"))
    if size < MIN_PASSWORD_BYTES:
        return f"password must be at least {MIN_PASSWORD_BYTES} bytes"
    if size > MAX_PASSWORD_BYTES:
        return f"password must be at most {MAX_PASSWORD_BYTES} bytes (UTF-8)"
    return None


def hash_password(password: str, rounds: int) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:  # a malformed stored hash never authenticates
        return False


@lru_cache(maxsize=4)
def dummy_hash(rounds: int) -> str:
    """A hash to check against when the user does not exist, so both paths cost the same."""
    return hash_password("timing-equaliser-password", rounds)
