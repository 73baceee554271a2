"""The hub as its own ASGI app mounted at ``/hub``, so that it renders errors the Hugging Face way."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import State

from valuechain.core.errors import AppError
from valuechain.hub.deps import HUB_PREFIX
from valuechain.hub.errors import render_app_error, render_validation_error


def create_hub_app(root_state: State) -> FastAPI:
    """The Hugging Face-compatible API; it shares the platform app's state (settings, database)."""
    from valuechain.hub import router_access, router_api, router_files, router_lfs, router_write

    hub = FastAPI(title="valuechain hub", summary="Hugging Face-compatible model hub", openapi_url=None)
    hub.state.root = root_state
    hub.state.store = None
    hub.add_exception_handler(AppError, render_app_error)
    hub.add_exception_handler(RequestValidationError, render_validation_error)
    for module in (router_access, router_api, router_write, router_lfs, router_files):
        hub.include_router(module.router)
    return hub


def mount_hub(app: FastAPI) -> None:
    """Mount the hub under ``/hub``: point ``HF_ENDPOINT`` at ``<public_url>/hub``."""
    app.mount(HUB_PREFIX, create_hub_app(app.state))
