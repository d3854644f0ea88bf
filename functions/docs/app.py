"""The docs function: the one OpenAPI document of the whole API, and the pages that show it.

Swagger UI (`APP_API_DOCS_URL`), ReDoc (`APP_REDOC_URL`) and Scalar (`APP_SCALARA_URL`) load their
JavaScript and CSS from this function (`/docs/assets/…`), never from a CDN, so the pages work
offline. The document (`APP_OPENAPI_URL`) is openapi.json beside this file, merged from every
function's app by `make openapi` and checked for drift by the tests.

It also serves the HTTP API's `$default` route: whatever no route of any function matches comes
here, and is answered from the document as problem+json: `405` with `Allow` when the path is one
of the API's with other methods, else `404` (rather than API Gateway's `{"message":"Not Found"}`).
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from todo_common.errors import MethodNotAllowed, NotFound
from todo_common.http.app import create_app, lambda_handler
from todo_common.settings import get_settings

HERE = Path(__file__).resolve().parent
ASSET_DIRS = (HERE / "static",)
ASSETS = "/docs/assets"
MEDIA_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png"}
OAUTH2_REDIRECT = "/docs/oauth2-redirect"

settings = get_settings().app
router = APIRouter(include_in_schema=False)


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / "openapi.json").read_text())
    return document


def _openapi_url() -> str:
    return settings.openapi_url or "/openapi.json"


@router.get(_openapi_url())
async def openapi() -> JSONResponse:
    return JSONResponse(_document())


@router.get(settings.api_docs_url or "/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_openapi_url(),
        title=f"{settings.name} — Swagger UI",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT,
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )


@router.get(OAUTH2_REDIRECT)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def _reference_page(title: str, body: str) -> HTMLResponse:
    """The page ReDoc and Scalar share: title, favicon, then the reader's own `body`."""
    return HTMLResponse(f"""<!doctype html>
<html>
  <head>
    <title>{title}</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="icon" href="{ASSETS}/favicon-32x32.png" />
  </head>
  <body>
{body}
  </body>
</html>""")


@router.get(settings.redoc_url or "/redoc")
async def redoc() -> HTMLResponse:
    # ReDoc 3's bundle is an ES module (FastAPI's get_redoc_html loads it as a classic script).
    return _reference_page(
        f"{settings.name} — ReDoc",
        f"""    <redoc spec-url="{_openapi_url()}" disable-telemetry="true"></redoc>
    <script type="module" src="{ASSETS}/redoc.standalone.js"></script>""",
    )


@router.get(settings.scalara_url or "/scalar")
async def scalar() -> HTMLResponse:
    return _reference_page(
        f"{settings.name} — API reference",
        f"""    <script id="api-reference" data-url="{_openapi_url()}"
            data-configuration='{{"withDefaultFonts": false}}'></script>
    <script src="{ASSETS}/scalar.standalone.js"></script>""",
    )


@router.get(f"{ASSETS}/{{name}}")
async def asset(name: str, accept_encoding: Annotated[str | None, Header()] = None) -> Response:
    """A bundled file, gzipped when the client accepts it (Lambda responses stop at 6 MB)."""
    suffix = Path(name).suffix
    if "/" in name or suffix not in MEDIA_TYPES:
        raise NotFound("No such asset")
    gzip_ok = "gzip" in (accept_encoding or "")
    for directory in ASSET_DIRS:
        path = directory / (f"{name}.gz" if gzip_ok else name)
        if path.is_file():
            headers = {"Cache-Control": "public, max-age=86400"}
            if gzip_ok:
                headers["Content-Encoding"] = "gzip"
            return Response(path.read_bytes(), media_type=MEDIA_TYPES[suffix], headers=headers)
    raise NotFound("No such asset (run `make docs-assets`)")


HTTP_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class _Resource:
    """A path the API routes, with its methods; `literal` counts its fixed segments."""

    pattern: re.Pattern[str]
    literal: int
    methods: frozenset[str]


@cache
def _resources() -> list[_Resource]:
    """Every path the API routes (the document's, and this function's own), with its methods."""
    found: dict[str, set[str]] = {}
    for path, operations in _document()["paths"].items():
        found.setdefault(path, set()).update(
            m.upper() for m in operations if m.upper() in HTTP_METHODS
        )
    for route in router.routes:
        own = str(getattr(route, "path", ""))
        if own != UNROUTED:
            found.setdefault(own, set()).update(getattr(route, "methods", set()))
    return [
        _Resource(
            re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path))),
            sum(1 for segment in path.split("/") if segment and not segment.startswith("{")),
            frozenset(methods),
        )
        for path, methods in found.items()
    ]


def allowed_methods(path: str) -> list[str]:
    """The methods of the resource at `path`: the most specific routed path that matches it, as
    API Gateway chooses (`/users/me` is its own resource, not a `/users/{user_id}`)."""
    matches = [r for r in _resources() if r.pattern.fullmatch(path)]
    if not matches:
        return []
    literal = max(r.literal for r in matches)
    return sorted({m for r in matches if r.literal == literal for m in r.methods})


UNROUTED = "/{path:path}"


@router.api_route(UNROUTED, methods=list(HTTP_METHODS))
async def unrouted(request: Request) -> Response:
    """The `$default` route: 405 with `Allow` for a known path, else 404."""
    path, method = request.url.path, request.method
    allowed = allowed_methods(path)
    if allowed and method not in allowed:
        raise MethodNotAllowed(method, allowed)
    raise NotFound(f"No route for {method} {path}")


app = create_app(title="Docs", routers=[router])
handler = lambda_handler(app, warm_up=_document)  # the document is read before a snapshot
