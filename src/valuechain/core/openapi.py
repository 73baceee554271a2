"""The API reference pages (/docs, /redoc) served from installed assets, so they work offline.

Swagger UI and ReDoc come from the ``fastapi_offline`` package's static files; the pages name no external
URL (ReDoc's Google Fonts are off, its one CDN image is cut out). The bearer scheme makes "Authorize" work.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import pydantic
from fastapi import FastAPI, Request, Security
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ASSETS_DIR = str(files("fastapi_offline") / "static")

# Documentation only: auto_error=False never answers for us, the routes' own dependency checks the key.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="A valuechain API key (`vc_…`), sent as `Authorization: Bearer <key>`.",
    auto_error=False,
)
SECURITY = [{"bearer": []}]
# A dependency that documents a route as keyed; it returns the credentials and decides nothing.
DocumentedKey = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
# The pages may load only from this server (a defence in depth: the assets name no external URL they load).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True, "tryItOutEnabled": False}


def swagger_page(*, openapi_url: str, title: str, root: str = "") -> HTMLResponse:
    """Swagger UI for one OpenAPI document, every asset from ``ASSETS_PATH`` under the app's ``root``."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    page.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
    return page


def redoc_page(*, openapi_url: str, title: str, root: str = "") -> HTMLResponse:
    """ReDoc for one OpenAPI document, every asset from ``ASSETS_PATH`` under ``root``, no web fonts."""
    page = get_redoc_html(
        openapi_url=openapi_url,
        title=title,
        redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )
    page.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
    return page


@cache
def _offline_redoc_script() -> str:
    """ReDoc's bundle without its one hard-coded CDN load (the sidebar logo; it hides itself on error)."""
    script = (Path(ASSETS_DIR) / "redoc.standalone.js").read_text(encoding="utf-8")
    return script.replace('"https://cdn.redoc.ly/redoc/logo-mini.svg"', '"data:,"')


def install_docs(app: FastAPI) -> None:
    """Serve the assets, /docs and /redoc for ``app`` (created with ``docs_url=None, redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(f"{ASSETS_PATH}/redoc.standalone.js", include_in_schema=False)
    def redoc_script() -> Response:
        return Response(_offline_redoc_script(), media_type="text/javascript")

    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return swagger_page(openapi_url=root + openapi_url, title=f"{app.title} API", root=root)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return redoc_page(openapi_url=root + openapi_url, title=f"{app.title} API", root=root)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def json_body(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself: the body's schema, from ``model``."""
    schema = model.model_json_schema(mode="validation")
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline_refs(schema, schema.get("$defs", {}))}},
        }
    }
