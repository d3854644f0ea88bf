"""One OpenAPI 3.1 document for the whole API, merged from every function's FastAPI app.

The functions listed in `template.yaml` with HTTP routes are imported, their documents merged
(paths, component schemas, the bearer security scheme), and each operation tagged with its
function. Only routes the template exposes are kept. The result is committed as
functions/docs/openapi.json, served by the docs function, and checked for drift by the tests.

    python -m devtools.openapi          # write it
    python -m devtools.openapi --check  # exit 1 if the committed document differs from the code
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from devtools.lambda_local import function_module
from devtools.template import Template, load_template

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "functions" / "docs" / "openapi.json"
DOCS_FUNCTION = "DocsFunction"
_PARAM = re.compile(r"\{[^}]+\}")


def route_shape(path: str) -> str:
    """`/users/{user_id}` and the template's `/users/{id}` name the same route."""
    return _PARAM.sub("{}", path)


def merged_document(template: Template) -> dict[str, Any]:
    from todo_common.settings import get_settings

    settings = get_settings().app
    exposed = {(r.method.lower(), route_shape(r.path), r.function) for r in template.routes}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    security: dict[str, Any] = {}
    headers: dict[str, Any] = {}
    tags = []
    operation_ids: set[str] = set()  # a generated client's call names: one per operation
    for logical_id in sorted({r.function for r in template.routes} - {DOCS_FUNCTION}):
        doc = function_module(template.functions[logical_id]).app.openapi()
        tag = logical_id.removesuffix("Function")
        tags.append({"name": tag, "description": doc["info"]["title"]})
        for path, operations in doc.get("paths", {}).items():
            for method, operation in operations.items():
                if (method, route_shape(path), logical_id) not in exposed:
                    continue
                if operation["operationId"] in operation_ids:
                    raise ValueError(f"operationId {operation['operationId']} is used twice")
                operation_ids.add(operation["operationId"])
                paths.setdefault(path, {})[method] = {**operation, "tags": [tag]}
        components = doc.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"schema {name} differs between functions")
            schemas[name] = schema
        security |= components.get("securitySchemes", {})
        headers |= components.get("headers", {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": settings.name,
            "version": settings.version,
            "description": settings.description,
        },
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "headers": dict(sorted(headers.items())),
            "securitySchemes": security,
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    # The functions with protected routes refuse to start without token keys; no key is read
    # to write the document (they are read before a snapshot, or on a first request).
    os.environ.setdefault("SECURITY_JWT_VERIFY_KEY_IDS", "alias/documentation-only")
    text = render(merged_document(load_template(ROOT / "template.yaml")))
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
