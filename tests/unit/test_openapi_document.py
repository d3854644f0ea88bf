"""The committed OpenAPI document is the one the code produces, for every function's routes."""

from __future__ import annotations

import json
from pathlib import Path

from devtools.openapi import OUTPUT, merged_document, render, route_shape
from devtools.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_document_matches_the_code() -> None:
    expected = render(merged_document(load_template(ROOT / "template.yaml")))
    assert OUTPUT.read_text() == expected, "openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_once() -> None:
    document = json.loads(OUTPUT.read_text())
    template = load_template(ROOT / "template.yaml")
    documented = [
        (method.upper(), route_shape(path))
        for path, operations in document["paths"].items()
        for method in operations
    ]
    routed = [
        (r.method, route_shape(r.path)) for r in template.routes if r.function != "DocsFunction"
    ]
    assert sorted(documented) == sorted(routed)


def test_the_document_is_openapi_3_1_with_the_bearer_scheme_and_a_tag_per_function() -> None:
    document = json.loads(OUTPUT.read_text())
    assert document["openapi"] == "3.1.0"
    scheme = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    tags = {t["name"] for t in document["tags"]}
    assert tags == {"Users", "Projects", "Tasks", "Reports"}
    assert all(
        len(op["tags"]) == 1 and op["tags"][0] in tags
        for ops in document["paths"].values()
        for op in ops.values()
    )
