"""The hub as its own ASGI app mounted at ``/hub``, so that it renders errors the Hugging Face way."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException

from valuechain import __version__
from valuechain.core.errors import AppError
from valuechain.core.openapi import redoc_page, swagger_page
from valuechain.hub.deps import HUB_PREFIX
from valuechain.hub.errors import (
    RequestIdMiddleware,
    render_app_error,
    render_http_error,
    render_unexpected_error,
    render_validation_error,
)
from valuechain.hub.throttle import ClientThrottle

# Card validation is open to anonymous callers (the client posts README.md before it commits), so each client,
# its key or else its address, gets this many calls a minute (issue 17).
VALIDATE_PER_MINUTE = 60

DESCRIPTION = (
    "The Hugging Face Hub API as `huggingface_hub` and `transformers` call it: set "
    "`HF_ENDPOINT=<server>/hub` and a valuechain API key as `HF_TOKEN`. Anonymous callers may read public "
    "repositories; a key that is sent must be valid. The platform's own API: [reference](../docs)."
)


def create_hub_app(root_state: State) -> FastAPI:
    """The Hugging Face-compatible API; it shares the platform app's state (settings, database)."""
    from valuechain.hub import router_access, router_api, router_files, router_lfs, router_write

    hub = FastAPI(
        title="valuechain hub",
        summary="Hugging Face-compatible model hub",
        description=DESCRIPTION,
        version=__version__,
        servers=[{"url": HUB_PREFIX}],
        docs_url=None,
        redoc_url=None,
    )
    hub.state.root = root_state
    hub.state.validate_throttle = ClientThrottle(limit=VALIDATE_PER_MINUTE, window_s=60)
    hub.add_exception_handler(AppError, render_app_error)
    hub.add_exception_handler(RequestValidationError, render_validation_error)
    hub.add_exception_handler(StarletteHTTPException, render_http_error)
    hub.add_exception_handler(Exception, render_unexpected_error)
    hub.add_middleware(RequestIdMiddleware)
    for module, tag in (
        (router_access, "hub access"),
        (router_api, "hub read"),
        (router_write, "hub write"),
        (router_lfs, "hub lfs"),
        (router_files, "hub files"),
    ):
        hub.include_router(module.router, tags=[tag])
    _add_docs_routes(hub)
    return hub


def _add_docs_routes(hub: FastAPI) -> None:
    """/hub/docs and /hub/redoc, with the assets the platform app serves (see ``valuechain.core.openapi``)."""

    def roots(request: Request) -> tuple[str, str]:
        hub_root = request.scope.get("root_path", "")  # ".../hub" as mounted
        return hub_root, hub_root.removesuffix(HUB_PREFIX)

    @hub.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        hub_root, app_root = roots(request)
        return swagger_page(openapi_url=f"{hub_root}/openapi.json", title="valuechain hub API", root=app_root)

    @hub.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        hub_root, app_root = roots(request)
        return redoc_page(openapi_url=f"{hub_root}/openapi.json", title="valuechain hub API", root=app_root)


def mount_hub(app: FastAPI) -> None:
    """Mount the hub under ``/hub``: point ``HF_ENDPOINT`` at ``<public_url>/hub``."""
    app.mount(HUB_PREFIX, create_hub_app(app.state))
