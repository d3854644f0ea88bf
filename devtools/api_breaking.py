"""Breaking changes to the API's contract, caught before a client meets them.

oasdiff (Go module github.com/oasdiff/oasdiff, built with `go install` by `make api-diff`)
compares functions/docs/openapi.json with the document of a base revision: by default the last
release tag (`v*`), in the CI workflow the pull request's base branch. A breaking change
(oasdiff level ERR: an operation or a response field removed, a parameter made required, a type
narrowed…) fails, unless the document's version (`APP_VERSION`) changes major from the base's:
that is how a release says it breaks its clients on purpose.

    python -m devtools.api_breaking                   # against the last v* tag
    python -m devtools.api_breaking --base origin/main
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = Path("functions/docs/openapi.json")


@dataclass(frozen=True)
class Verdict:
    breaking: list[str]  # oasdiff's findings at level ERR, one line each
    base_version: str
    version: str

    @property
    def major_changed(self) -> bool:
        """The version's major number went up (a downgrade or a relabel is no release)."""
        return _major(self.version) > _major(self.base_version)

    @property
    def passes(self) -> bool:
        return not self.breaking or self.major_changed


def _major(version: str) -> int:
    head = version.removeprefix("v").split(".")[0]
    return int(head) if head.isdigit() else -1


def oasdiff_binary() -> str:
    found = os.environ.get("OASDIFF") or shutil.which("oasdiff")
    if not found or not Path(found).exists():
        raise SystemExit("oasdiff is not installed: run `make api-diff` (it installs it with Go)")
    return found


def last_release_tag(repo: Path = ROOT) -> str | None:
    """The highest `v*` tag behind HEAD (a tag on HEAD itself is the release being checked, not
    its base), or None before the first release."""
    tags = subprocess.run(
        [
            *("git", "tag", "--list", "v*", "--sort=-v:refname"),
            *("--merged", "HEAD", "--no-contains", "HEAD"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return tags[0] if tags else None


def document_at(revision: str, repo: Path = ROOT) -> str | None:
    """The committed document at `revision`, or None if it has none; a revision that does not
    exist (a typo, a base branch not fetched) is an error, never "nothing to compare"."""
    exists = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if exists.returncode != 0:
        raise SystemExit(f"api-diff: {revision} is not a revision of this repository")
    shown = subprocess.run(
        ["git", "show", f"{revision}:{DOCUMENT.as_posix()}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def compare(base: str, revision: str) -> Verdict:
    """oasdiff's breaking changes from the `base` document to the `revision` (both JSON text)."""
    with tempfile.TemporaryDirectory() as tmp:
        base_path, revision_path = Path(tmp, "base.json"), Path(tmp, "revision.json")
        base_path.write_text(base)
        revision_path.write_text(revision)
        ran = subprocess.run(
            [oasdiff_binary(), "breaking", "--format", "json", str(base_path), str(revision_path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if ran.returncode != 0:
        raise RuntimeError(f"oasdiff failed: {ran.stderr.strip()}")
    findings: list[dict[str, Any]] = json.loads(ran.stdout or "[]") or []
    breaking = [
        f"{item.get('operation', '')} {item.get('path', '')}: {item.get('text') or item.get('id')}"
        for item in findings
        if item.get("level") == 3  # oasdiff's ERR
    ]
    return Verdict(
        breaking=breaking,
        base_version=json.loads(base)["info"]["version"],
        version=json.loads(revision)["info"]["version"],
    )


def main(argv: list[str] | None = None, repo: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", help="a git revision (default: the last v* tag)")
    args = parser.parse_args(argv)
    base_revision = args.base or last_release_tag(repo)
    if base_revision is None:
        print("api-diff: no v* release tag yet, nothing to compare the document with")
        return 0
    base = document_at(base_revision, repo)
    if base is None:
        print(f"api-diff: {base_revision} has no {DOCUMENT}, nothing to compare with")
        return 0
    verdict = compare(base, (repo / DOCUMENT).read_text())
    for line in verdict.breaking:
        print(f"  breaking: {line}")
    if verdict.passes:
        reason = (
            f"a major version change ({verdict.base_version} → {verdict.version})"
            if verdict.breaking
            else "no breaking change"
        )
        print(f"api-diff: against {base_revision}: {reason}")
        return 0
    print(
        f"api-diff: {len(verdict.breaking)} breaking change(s) against {base_revision} with the "
        f"same major version ({verdict.base_version} → {verdict.version}): keep the contract, "
        "or release a new major version (APP_VERSION)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
