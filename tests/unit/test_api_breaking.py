"""Breaking changes to the document are caught by oasdiff (devtools/api_breaking.py), against a
base revision of a real git repository; only a new major version lets them through."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devtools.api_breaking import DOCUMENT, compare, main

COMMITTED: dict[str, Any] = json.loads(Path(__file__).parents[2].joinpath(DOCUMENT).read_text())


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)


def _without_delete_task(version: str = "1.0.0") -> dict[str, Any]:
    document = copy.deepcopy(COMMITTED)
    del document["paths"]["/tasks/{task_id}"]["delete"]
    document["info"]["version"] = version
    return document


def _with_an_optional_filter() -> dict[str, Any]:
    document = copy.deepcopy(COMMITTED)
    document["paths"]["/projects"]["get"]["parameters"].append(
        {
            "name": "nameContains",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "maxLength": 100},
        }
    )
    return document


def test_the_document_against_itself_has_no_breaking_change() -> None:
    verdict = compare(_text(COMMITTED), _text(COMMITTED))
    assert verdict.breaking == []
    assert verdict.passes


def test_a_removed_operation_and_a_removed_response_field_are_breaking() -> None:
    revision = _without_delete_task()
    del revision["components"]["schemas"]["ProjectPublic"]["properties"]["description"]
    revision["components"]["schemas"]["ProjectPublic"]["required"].remove("description")

    verdict = compare(_text(COMMITTED), _text(revision))

    assert any(line.startswith("DELETE /tasks/{task_id}") for line in verdict.breaking)
    assert any(
        line.startswith("GET /projects/{project_id}") and "description" in line
        for line in verdict.breaking
    )
    assert not verdict.passes


def test_a_new_optional_parameter_is_not_breaking() -> None:
    verdict = compare(_text(COMMITTED), _text(_with_an_optional_filter()))
    assert verdict.breaking == []


def test_a_breaking_change_passes_with_a_new_major_version_only() -> None:
    assert not compare(_text(COMMITTED), _text(_without_delete_task("1.9.0"))).passes
    assert compare(_text(COMMITTED), _text(_without_delete_task("2.0.0"))).passes
    # a downgrade or a relabel is no new major version
    assert not compare(_text(COMMITTED), _text(_without_delete_task("0.9.0"))).passes
    assert not compare(_text(COMMITTED), _text(_without_delete_task("v1.0.0"))).passes


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _commit(repo: Path, document: dict[str, Any], message: str) -> None:
    path = repo / DOCUMENT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_text(document))
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    _commit(tmp_path, COMMITTED, "first")
    return tmp_path


def test_before_the_first_release_tag_there_is_nothing_to_compare(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, _without_delete_task(), "break it")
    assert main([], repo=repo) == 0
    assert "no v* release tag" in capsys.readouterr().out


def test_a_breaking_change_since_the_last_release_tag_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _git(repo, "tag", "v0.9.0")
    _commit(repo, _with_an_optional_filter(), "add a filter")
    _git(repo, "tag", "v1.0.0")
    _commit(repo, _without_delete_task(), "break it")

    assert main([], repo=repo) == 1
    out, err = capsys.readouterr()
    assert "breaking: DELETE /tasks/{task_id}" in out
    assert "against v1.0.0" in err


def test_a_base_revision_can_be_named_as_a_pull_request_would(repo: Path) -> None:
    _git(repo, "checkout", "-q", "-b", "feature")
    _commit(repo, _with_an_optional_filter(), "add a filter")
    assert main(["--base", "main"], repo=repo) == 0
    _commit(repo, _without_delete_task(), "break it")
    assert main(["--base", "main"], repo=repo) == 1
    _commit(repo, _without_delete_task("2.0.0"), "and say so")
    assert main(["--base", "main"], repo=repo) == 0


def test_the_release_commit_itself_is_compared_with_the_release_before(repo: Path) -> None:
    """On a tagged commit (CI of a v* push) the base is the previous tag, not the commit."""
    _git(repo, "tag", "v1.0.0")
    _commit(repo, _without_delete_task(), "break it")
    _git(repo, "tag", "v1.1.0")
    assert main([], repo=repo) == 1


def test_a_base_that_does_not_exist_fails_rather_than_checking_nothing(repo: Path) -> None:
    with pytest.raises(SystemExit, match="not a revision"):
        main(["--base", "origin/no-such-branch"], repo=repo)
