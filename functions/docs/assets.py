"""Fetch the documentation pages' JavaScript and CSS from the npm registry, pinned, into a folder.

The API serves Swagger UI, ReDoc and Scalar itself, so /docs works with no internet access and no
CDN. Used by `make dev`/`make test` (into functions/docs/static, git-ignored) and by `sam build`
(into the function's artifact). Each file is also stored gzipped: the browser bundles are large,
and Lambda responses are limited to 6 MB.

    python functions/docs/assets.py DEST_DIR
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# npm package@version -> {file inside the package: name served under /docs/assets/}
ASSETS: dict[str, dict[str, str]] = {
    "swagger-ui-dist@5.35.0": {
        "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
        "package/swagger-ui.css": "swagger-ui.css",
        "package/favicon-32x32.png": "favicon-32x32.png",
    },
    "redoc@3.0.1": {"package/bundles/redoc.standalone.js": "redoc.standalone.js"},
    "@scalar/api-reference@1.72.1": {
        "package/dist/browser/standalone.js": "scalar.standalone.js",
    },
}
CACHE = Path(os.environ.get("TODO_API_CACHE") or Path.home() / ".cache" / "todo-api") / "npm"


def _tarball(spec: str) -> Path:
    """The package tarball, fetched once with `npm pack` (registry by name, nothing installed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name = spec.lstrip("@").replace("/", "-").replace("@", "-") + ".tgz"
    path = CACHE / name
    if not path.exists():
        if shutil.which("npm") is None:
            sys.exit("npm is required to fetch the documentation assets (Node.js 18+)")
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                ["npm", "pack", "--silent", "--pack-destination", tmp, spec],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            packed = next(Path(tmp).glob("*.tgz"))
            shutil.move(str(packed), path)
    return path


def fetch(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for spec, files in ASSETS.items():
        wanted = [dest / served for served in files.values()]
        if all(p.exists() and p.with_suffix(p.suffix + ".gz").exists() for p in wanted):
            continue
        with tarfile.open(_tarball(spec)) as archive:
            for member, served in files.items():
                extracted = archive.extractfile(member)
                if extracted is None:
                    sys.exit(f"{member} is missing from {spec}")
                data = extracted.read()
                (dest / served).write_bytes(data)
                (dest / f"{served}.gz").write_bytes(gzip.compress(data, 9, mtime=0))
                written.append(dest / served)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "static"
    for path in fetch(target):
        print(f"docs asset: {path}")
