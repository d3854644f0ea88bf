"""The deployment artifacts, built for this machine: what `make dev RUNTIME=lambda` runs.

The same Makefiles `sam build` runs (BuildMethod: makefile), with the same pins, but for this
machine's CPU (`TARGET_ARCH`) and a CPython of the target version when one is installed (3.13,
as in `template.yaml`; else this machine's `python3`). The layer also gets the Lambda runtime
interface client (`requirements/rie.txt`), which AWS's runtime has built in. Output:
`.aws-sam/host/<arch>-py<version>/<LogicalId>/`, SAM's layout; rebuilt when a source changes.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools.template import Template

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "common"
RIE_REQUIREMENTS = ROOT / "requirements" / "rie.txt"
TARGET_PYTHON_VERSION = "3.13"
LAYER_ID = "CommonLayer"


@dataclass(frozen=True)
class HostBuild:
    root: Path
    python: Path  # the interpreter the functions run on

    @property
    def layer(self) -> Path:
        """What Lambda mounts as /opt: the packages are in its `python/` folder."""
        return self.root / LAYER_ID

    def function(self, logical_id: str) -> Path:
        """What Lambda mounts as /var/task."""
        return self.root / logical_id


def find_python(version: str) -> Path | None:
    """A CPython `version` interpreter, found as the layer's Makefile finds one (None if none)."""
    found = subprocess.run(
        ["sh", str(LAYER_SOURCE / "find-python.sh"), version],
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def host_python() -> tuple[Path, str]:
    """The target version if installed, else this machine's own python3 (and its version)."""
    target = find_python(TARGET_PYTHON_VERSION)
    if target is not None:
        return target, TARGET_PYTHON_VERSION
    system = shutil.which("python3") or sys.executable
    version = subprocess.run(
        [system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(system), version


def _sources_digest(template: Template, extra: list[Path]) -> str:
    digest = hashlib.sha256()
    folders = {LAYER_SOURCE, *(fn.code_uri.resolve() for fn in template.functions.values())}
    files = [*extra]
    for folder in sorted(folders):
        files += [
            p
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and "static" not in p.parts
        ]
    for path in sorted(files):
        digest.update(str(path.resolve().relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _make(target: str, folder: Path, artifacts: Path, **variables: str) -> None:
    artifacts.mkdir(parents=True, exist_ok=True)
    settings = [
        f"{key}={value}" for key, value in {"ARTIFACTS_DIR": artifacts, **variables}.items()
    ]
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(folder), target, *settings],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building {target} failed:\n{result.stdout}{result.stderr}")


def build_for_host(template: Template, out: Path | None = None) -> HostBuild:
    """Build the layer and every function of `template` for this machine (skipped if current)."""
    python, version = host_python()
    arch = platform.machine()  # x86_64 or aarch64, as manylinux tags spell them
    root = out or ROOT / ".aws-sam" / "host" / f"{arch}-py{version}"
    build = HostBuild(root, python)
    stamp = root / ".sources"
    digest = _sources_digest(template, [RIE_REQUIREMENTS, ROOT / "template.yaml"])
    if stamp.is_file() and stamp.read_text() == digest:
        return build
    shutil.rmtree(root, ignore_errors=True)
    print(f"Building the artifacts for {arch}, Python {version} ({python}) in {root}", flush=True)
    _make(
        f"build-{LAYER_ID}",
        LAYER_SOURCE,
        build.layer,
        PYTHON=sys.executable,  # pip runs here; bytecode is compiled by a `version` CPython
        TARGET_PYTHON_VERSION=version,
        TARGET_ARCH=arch,
        EXTRA_REQUIREMENTS=str(RIE_REQUIREMENTS),
    )
    for fn in template.functions.values():
        _make(f"build-{fn.logical_id}", fn.code_uri, build.function(fn.logical_id))
    stamp.write_text(digest)
    return build


if __name__ == "__main__":
    from devtools.template import load_template

    built = build_for_host(load_template(ROOT / "template.yaml"))
    print(f"{built.root} (functions run on {built.python})")
