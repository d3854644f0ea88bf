"""The typed Python client in clients/python/, generated from the committed OpenAPI document.

openapi-python-client (in its own virtual environment, `.venv-client`, pinned in
requirements/client.txt) writes the package `todo_api_client` from functions/docs/openapi.json;
its output is formatted with the ruff of that environment, so the same document always gives the
same files. The hand-written parts (`HAND_WRITTEN`: the session module, the project's metadata)
are never touched.

Conditional reads are the session's business: it keeps each record it read and sends its `ETag`
itself, handing back its copy on a `304`. The generator is given the document without the `304`
responses and the `If-None-Match` parameter (`for_generator`): with them every single-record read
would be typed `Any | …` (a `304` has no body) and a caller could ask for a `304` it cannot use.

    python -m devtools.client          # regenerate clients/python/todo_api_client
    python -m devtools.client --check  # exit 1 if the committed client differs from the document
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "functions" / "docs" / "openapi.json"
PROJECT = ROOT / "clients" / "python"
PACKAGE = PROJECT / "todo_api_client"
CONFIG = PROJECT / "config.yaml"
# Files of the package written by hand, kept when the rest is regenerated.
HAND_WRITTEN = frozenset({"session.py", "py.typed"})


def client_venv() -> Path:
    return Path(os.environ.get("CLIENT_VENV", ROOT / ".venv-client"))


def for_generator(document: dict[str, Any]) -> dict[str, Any]:
    """`document` without what the session answers itself: `304` and `If-None-Match`."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("304", None)
            parameters = [
                p for p in operation.get("parameters", []) if p["name"] != "If-None-Match"
            ]
            if parameters:
                operation["parameters"] = parameters
            else:
                operation.pop("parameters", None)
    return document


def generate(into: Path) -> Path:
    """Generate the package under `into` and return its directory."""
    venv_bin = client_venv() / "bin"
    generator = venv_bin / "openapi-python-client"
    if not generator.exists():
        raise SystemExit(f"{generator} is missing: run `make client-venv` (or `make client`)")
    out = into / "todo_api_client"
    given = into / "openapi.json"
    given.write_text(json.dumps(for_generator(json.loads(DOCUMENT.read_text()))))
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(given),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--fail-on-warning",
            "--output-path",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ruff = [str(venv_bin / "ruff"), "--isolated"]
    fix = ["check", "--no-cache", "--quiet", "--fix-only", "--select", "F401,I,UP"]
    subprocess.run([*ruff, *fix, str(out)], check=True)
    layout = ["format", "--no-cache", "--quiet", "--line-length", "100"]
    subprocess.run([*ruff, *layout, str(out)], check=True)
    return out


def _generated_files(package: Path) -> set[Path]:
    return {
        path.relative_to(package)
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name not in HAND_WRITTEN
    }


def differences(generated: Path, committed: Path = PACKAGE) -> list[str]:
    """Every file that differs between a fresh generation and the committed package."""
    fresh, kept = _generated_files(generated), _generated_files(committed)
    found = [f"missing: {path}" for path in sorted(fresh - kept)]
    found += [f"not generated: {path}" for path in sorted(kept - fresh)]
    found += [
        f"differs: {path}"
        for path in sorted(fresh & kept)
        if not filecmp.cmp(generated / path, committed / path, shallow=False)
    ]
    return found


def write(generated: Path, committed: Path = PACKAGE) -> None:
    for path in _generated_files(committed):
        (committed / path).unlink()
    for path in sorted(_generated_files(generated)):
        target = committed / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(generated / path, target)
    for directory in sorted(committed.rglob("*"), reverse=True):  # folders left empty
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(Path(tmp))
        if args.check:
            found = differences(generated)
            if found:
                print(
                    "clients/python is out of date with openapi.json: run `make client`\n  "
                    + "\n  ".join(found),
                    file=sys.stderr,
                )
                return 1
            return 0
        write(generated)
    print(f"wrote {PACKAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
