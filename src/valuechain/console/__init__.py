"""The web console: server-rendered pages at ``/`` over the domain services (issue 10).

Thin routes (one module per area) and Jinja2 templates; htmx 2 and Pico CSS are vendored under
``static/vendor`` (see ``VENDORED.md``). Every page acts with the visitor's ``Principal`` through the same
``accounts.authz.authorize`` as the APIs, and reads other domains only through their services.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from valuechain.console import (
    audit,
    auth,
    channels,
    complaints,
    compliance,
    documentation,
    finetune,
    incidents,
    lifecycle,
    market,
    models,
    org,
    playground,
    provider,
    selling,
    whitelabel,
)
from valuechain.console.auth import LoginThrottle
from valuechain.console.web import STATIC_DIR, build_templates

ROUTERS = (
    auth.router,
    models.router,
    org.router,
    provider.router,
    compliance.router,
    complaints.router,
    incidents.router,
    documentation.router,
    audit.router,
    playground.router,
    channels.router,
    market.router,
    selling.router,
    lifecycle.router,
    whitelabel.router,
    finetune.router,
)


def install_console(app: FastAPI) -> None:
    """Add the console's routes and its static files (``/static``) to the platform app."""
    app.state.console_templates = build_templates()
    app.state.console_throttle = LoginThrottle()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="console-static")
