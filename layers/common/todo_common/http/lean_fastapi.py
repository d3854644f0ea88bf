"""FastAPI without its `pydantic.v1` probe: about 25 ms off every API function's cold start.

FastAPI 0.163 refuses `pydantic.v1` models, and to recognise one it imports the whole
`pydantic.v1` package the first time a route is declared (`fastapi._compat.shared`), then again
checks each object `jsonable_encoder` cannot otherwise encode. Our code has no v1 model, yet every
API function paid for the import at INIT: 25-27 ms in the Lambda runtime (`make bench`). A v1
model cannot exist before `pydantic.v1` is imported, so the two checks answer "not a v1 model"
while it is not, and are FastAPI's own checks, unchanged, once it is (a v1 model is still
refused as FastAPI refuses it). The same idea was proposed upstream (fastapi/fastapi#16374).
`tests/unit/test_lean_fastapi.py` fails if a FastAPI upgrade moves the checks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import fastapi.encoders
from fastapi._compat import shared

Check = Callable[[Any], bool]

# Where FastAPI looks the two checks up when it runs them.
_CHECKS: tuple[tuple[ModuleType, str], ...] = (
    (shared, "is_pydantic_v1_model_class"),  # annotation_is_pydantic_v1, on every route
    (shared, "is_pydantic_v1_model_instance"),
    (fastapi.encoders, "is_pydantic_v1_model_instance"),  # imported by name there
)


def _once_v1_is_imported(check: Check) -> Check:
    def guarded(value: Any) -> bool:
        return "pydantic.v1" in sys.modules and check(value)

    guarded.__wrapped__ = check  # type: ignore[attr-defined]
    return guarded


def install() -> None:
    """Guard FastAPI's checks (idempotent; a check FastAPI no longer has is left alone)."""
    for module, name in _CHECKS:
        check = getattr(module, name, None)
        if check is not None and not hasattr(check, "__wrapped__"):
            setattr(module, name, _once_v1_is_imported(check))
