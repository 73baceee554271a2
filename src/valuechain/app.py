"""The ASGI application factory: settings in, app out; long-lived objects live in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from valuechain import __version__
from valuechain.accounts.router import router as accounts_router
from valuechain.api.audit import router as audit_router
from valuechain.api.errors import install_error_handlers
from valuechain.api.limits import BodySizeLimit
from valuechain.api.metrics import router as metrics_router
from valuechain.api.metrics import serve_metrics_port
from valuechain.channels.router import router as channels_router
from valuechain.compliance.records_router import router as records_router
from valuechain.compliance.router import router as compliance_router
from valuechain.console import install_console
from valuechain.core import migrate
from valuechain.core.anchor import Anchor, Checkpointer
from valuechain.core.db import Database
from valuechain.core.logs import install_log_filters
from valuechain.core.observe import Observe
from valuechain.core.openapi import install_docs
from valuechain.core.settings import Settings
from valuechain.finetune import PATHS as FINETUNE_PATHS
from valuechain.finetune import api_router as finetune_api_router
from valuechain.finetune import router as finetune_router
from valuechain.gateway.api import router as api_channel_router
from valuechain.gateway.router import FAST_PATHS, FastPath
from valuechain.gateway.router import router as gateway_router
from valuechain.gateway.state import build_gateway, tune_gc_for_serving
from valuechain.hub.api import router as hub_api_router
from valuechain.hub.app import mount_hub
from valuechain.hub.storage import open_blob_store, sweep_periodically
from valuechain.market.router import router as market_router
from valuechain.market.router_market import router as marketplace_router
from valuechain.oversight.router import router as oversight_router
from valuechain.registry.chain_router import router as chain_router
from valuechain.registry.claims_router import router as claims_router
from valuechain.registry.router import router as registry_router
from valuechain.runtime.adapters import AdapterCache

log = logging.getLogger("valuechain")

# Every router of the platform, in one place.
ROUTERS = (
    accounts_router,
    registry_router,
    chain_router,
    claims_router,
    audit_router,
    compliance_router,
    records_router,
    market_router,
    marketplace_router,
    oversight_router,
    api_channel_router,
    channels_router,
    hub_api_router,
    finetune_router,
    finetune_api_router,
    gateway_router,
    metrics_router,
)

DESCRIPTION = (
    "`/api/v1` is the REST API, `/v1` the OpenAI-compatible API; both take an API key as "
    "`Authorization: Bearer <key>` (the **Authorize** button). The Hugging Face-compatible hub under `/hub` "
    "has its own reference: [hub API](hub/docs) (`/hub/openapi.json`)."
)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app; the database is migrated on start-up unless one is handed in."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_filters()
        db = database or Database(settings.resolved_database_url)
        if database is None:
            migrate.upgrade(db)
        app.state.settings, app.state.db = settings, db
        app.state.gateway = build_gateway(settings, db)
        await app.state.gateway.start(db, journal_scan_s=settings.gateway_journal_scan_s)
        if database is None:  # a served process, not a test handing in its database
            tune_gc_for_serving()
        checkpointer = Checkpointer(db, Anchor.of_home(settings.home))
        anchoring = asyncio.get_running_loop().create_task(checkpointer.run())
        metrics_server = serve_metrics_port(settings)
        app.state.blob_store = await asyncio.to_thread(open_blob_store, settings)
        # fine-tunes' adapters: the store's file, or (S3) a verified copy in this machine's cache
        app.state.gateway.pool.adapters = AdapterCache(app.state.blob_store, settings.home / "adapters")
        sweeping = asyncio.get_running_loop().create_task(sweep_periodically(app.state.blob_store))
        try:
            yield
        finally:
            sweeping.cancel()
            if metrics_server is not None:
                metrics_server.shutdown()
            anchoring.cancel()
            await asyncio.to_thread(checkpointer.close)
            await app.state.gateway.close()
            if getattr(app.state, "manifest_parser", None) is not None:
                await asyncio.to_thread(app.state.manifest_parser.close)
            if database is None:
                db.dispose()

    app = FastAPI(
        title="valuechain",
        version=__version__,
        summary="Registry, release channels and accountability for the GPAI value chain.",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from installed assets: the pages work offline
        redoc_url=None,
    )
    app.state.settings = settings
    if database is not None:
        app.state.db = database
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes, prefixes=("/api/",))
    app.add_middleware(FastPath, served=FINETUNE_PATHS)
    app.add_middleware(Observe, fast_paths=FAST_PATHS)  # outermost: request id and metrics of everything
    for router in ROUTERS:
        app.include_router(router)
    _add_health_routes(app)
    install_docs(app)
    install_console(app)  # the web console at `/` (after every API route: its paths never shadow them)
    mount_hub(app)  # the Hugging Face-compatible hub renders its own errors
    return app


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        """The process is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"])
    def readyz() -> Any:
        """The database answers and is migrated."""
        from fastapi.responses import JSONResponse

        try:
            with app.state.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            revision = migrate.current(app.state.db)
        except Exception as exc:  # readiness reports failure instead of raising
            log.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
        return {"status": "ready", "schema": revision}
