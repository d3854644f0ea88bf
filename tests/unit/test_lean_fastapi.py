"""A function's INIT imports what its requests use and no more: FastAPI's `pydantic.v1` probe is
skipped while no v1 model can exist, and still refuses one once `pydantic.v1` is imported
(todo_common/http/lean_fastapi.py); the relay and the webhooks function leave out what only
their neighbours use (docs/decisions.md, "Runtime and cold start")."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter (sys.modules is the point), with the functions' path."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}"},
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("function", ["users", "projects", "tasks", "reports"])
def test_an_api_function_loads_and_encodes_without_importing_pydantic_v1(function: str) -> None:
    ran = _run(f"""
        import sys
        from devtools.lambda_local import function_at, function_module
        assert function_module(function_at("{function}")).app.routes
        from fastapi.encoders import jsonable_encoder
        assert jsonable_encoder(object.__new__(type("Opaque", (), {{}}))) == {{}}
        print(sorted(name for name in sys.modules if name.startswith("pydantic.v1")))
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("folder", "handler", "left_out"),
    [
        # The relay shares the consumer's folder, not its SQS batch processing.
        ("audit_consumer", "relay.handler", "aws_lambda_powertools.utilities.batch"),
        # Subscriptions are managed without the consumer's fan-out and the schemas it renders.
        ("webhooks", "app.handler", "todo_common.webhooks.fanout"),
        ("webhooks", "app.handler", "todo_common.schemas.tasks"),
    ],
)
def test_a_function_starts_without_what_only_its_neighbours_use(
    folder: str, handler: str, left_out: str
) -> None:
    ran = _run(f"""
        import sys
        from devtools.lambda_local import function_at, load_handler
        assert callable(load_handler(function_at("{folder}", "{handler}")))
        print("{left_out}" in sys.modules)
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "False"


def test_a_pydantic_v1_model_is_still_refused_once_v1_is_imported() -> None:
    ran = _run("""
        import warnings
        warnings.simplefilter("ignore")
        from pydantic import v1
        from fastapi.exceptions import PydanticV1NotSupportedError
        from todo_common.http.app import create_app

        class Old(v1.BaseModel):
            name: str

        app = create_app(title="Probe", routers=[])
        try:
            @app.get("/old", response_model=Old)
            def old() -> None: ...
        except PydanticV1NotSupportedError:
            print("refused")
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "refused"


def test_without_the_guard_fastapi_would_import_it() -> None:
    """The guard is what keeps pydantic.v1 out: FastAPI alone imports it on the first route."""
    ran = _run("""
        import sys
        from fastapi import FastAPI
        from pydantic import BaseModel

        class Item(BaseModel):
            name: str

        app = FastAPI()

        @app.get("/item", response_model=Item)
        def item() -> None: ...

        print("pydantic.v1" in sys.modules)
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "True"


@pytest.mark.parametrize("function", ["users", "projects", "tasks", "reports", "webhooks", "docs"])
def test_the_signatures_fastapi_reads_at_init_hold_no_annotation_strings(function: str) -> None:
    """FastAPI evaluates every string annotation of every route and dependency it declares (a
    module with `from __future__ import annotations` has only strings): ~4 ms of the users
    function's INIT. The modules whose functions FastAPI reads do without it."""
    ran = _run(f"""
        from devtools.lambda_local import function_at, function_module
        from todo_common.http.documentation import api_routes

        def calls(dependant):
            yield dependant.call
            for sub in dependant.dependencies:
                yield from calls(sub)

        routes = list(api_routes(function_module(function_at("{function}")).app))
        assert routes
        strings = set()
        for route in routes:
            for call in calls(route.dependant):
                annotations = getattr(call, "__annotations__", None) or {{}}
                if any(isinstance(a, str) for a in annotations.values()):
                    strings.add(f"{{call.__module__}}.{{call.__qualname__}}")
        print(sorted(strings))
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"
