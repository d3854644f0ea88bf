"""The built CommonLayer carries CPython 3.13 bytecode for every module (issue 10).

Without it the Lambda runtime compiles every source on each cold start, in memory (its file
system is read-only): users INIT went from 1.4 s to 4.2 s. The layer is built here with its own
Makefile, for the target of `template.yaml` (python3.13, arm64); `BUILT_LAYER` names an existing
build instead (`make sam-build` sets it to `.aws-sam/build/CommonLayer`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = ROOT / "layers" / "common"
TARGET_TAG = "cpython-313"


def _make_layer(artifacts: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(LAYER_SOURCE), "build-CommonLayer"],
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if built := os.environ.get("BUILT_LAYER"):
        yield Path(built)
        return
    artifacts = tmp_path_factory.mktemp("layer")
    result = _make_layer(artifacts)
    assert result.returncode == 0, result.stdout + result.stderr
    yield artifacts


def test_given_the_built_layer_then_every_module_has_cpython_313_bytecode(layer: Path) -> None:
    site = layer / "python"
    modules = sorted(site.rglob("*.py"))
    assert len(modules) > 500  # the dependencies are there, not only todo_common
    missing = [
        str(module.relative_to(site))
        for module in modules
        if not (module.parent / "__pycache__" / f"{module.stem}.{TARGET_TAG}.pyc").is_file()
    ]
    assert missing == []


def test_given_the_built_layer_then_it_holds_no_bytecode_of_another_python(layer: Path) -> None:
    others = [p.name for p in (layer / "python").rglob("*.pyc") if TARGET_TAG not in p.name]
    assert others == []


def test_given_the_built_layer_then_the_bytecode_is_not_checked_against_the_sources(
    layer: Path,
) -> None:
    """unchecked-hash (flags 0b01): the runtime never reads a source to validate its .pyc."""
    pyc = next((layer / "python" / "todo_common" / "__pycache__").glob("*.pyc"))
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01


def test_given_no_python_of_the_target_version_then_the_build_fails_saying_what_to_install(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _make_layer(
        tmp_path / "out",
        PATH=f"{empty}:/usr/bin:/bin",
        HOME=str(tmp_path),
        PYENV_ROOT=str(empty),
        XDG_DATA_HOME=str(empty),
        TARGET_PYTHON_VERSION="3.99",
    )
    assert result.returncode != 0
    assert "no CPython 3.99 interpreter found" in result.stderr
    assert "PYC_PYTHON" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing was built


def test_given_a_pyc_python_of_another_version_then_the_build_fails(tmp_path: Path) -> None:
    result = _make_layer(tmp_path / "out", PYC_PYTHON=sys.executable, TARGET_PYTHON_VERSION="3.99")
    assert result.returncode != 0
    assert "is not a CPython 3.99 interpreter" in result.stderr
