"""The docs function serves the one committed OpenAPI document and pages that need no CDN."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from tests.integration.lambda_events import FunctionApi, LambdaResponse

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "functions" / "docs" / "openapi.json"


def _get(path: str, **headers: str) -> LambdaResponse:
    return FunctionApi("docs").request("GET", path, headers=headers)


def test_given_the_docs_function_when_openapi_json_is_read_then_it_is_the_committed_document() -> (
    None
):
    response = _get("/openapi.json")

    assert response.status == 200
    assert response.json() == json.loads(COMMITTED.read_text())
    assert response.json()["openapi"] == "3.1.0"


@pytest.mark.parametrize(
    ("path", "asset"),
    [
        ("/docs", "swagger-ui-bundle.js"),
        ("/redoc", "redoc.standalone.js"),
        ("/scalar", "scalar.standalone.js"),
    ],
)
def test_given_a_docs_page_when_served_then_its_scripts_come_from_this_api(
    path: str, asset: str
) -> None:
    page = _get(path)

    assert page.status == 200
    html = page.body.decode()
    assert f"/docs/assets/{asset}" in html
    external = re.findall(r"(?:src|href)=[\"'](https?://[^\"']+)", html)
    assert external == [], f"{path} loads from the internet: {external}"


def test_given_a_browser_that_accepts_gzip_when_an_asset_is_fetched_then_it_is_gzipped() -> None:
    plain = _get("/docs/assets/swagger-ui-bundle.js")
    zipped = _get("/docs/assets/swagger-ui-bundle.js", **{"accept-encoding": "gzip, deflate"})

    assert plain.status == zipped.status == 200
    assert plain.headers["content-type"].startswith("application/javascript")
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert len(zipped.body) < len(plain.body) / 2


@pytest.mark.parametrize("name", ["../app.py", "openapi.json", "nope.js"])
def test_given_a_name_that_is_no_asset_when_fetched_then_404(name: str) -> None:
    response = _get(f"/docs/assets/{name}")

    assert response.status == 404
    response.problem()
