"""``valuechain serve`` and ``valuechain init``."""

from __future__ import annotations

import os

import typer

from valuechain.cli.context import database, err
from valuechain.cli.render import say
from valuechain.core.settings import Settings


def serve(
    host: str = typer.Option(None, help="Bind address (default VALUECHAIN_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default VALUECHAIN_PORT or 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the platform over HTTP (migrates the database first)."""
    import uvicorn

    from valuechain.core.logs import log_config

    settings = Settings(**{k: v for k, v in {"host": host, "port": port}.items() if v})
    with database(settings):
        pass
    host, port, url = settings.host, settings.port, settings.resolved_public_url
    # The app (and every worker) builds its own Settings: let it see the address it is served at.
    os.environ.update(VALUECHAIN_HOST=host, VALUECHAIN_PORT=str(port))
    say(err, f"valuechain serving at {url}  (API docs: {url}/docs)")
    uvicorn.run(
        "valuechain.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config(level=settings.log_level, fmt=settings.log_format),
        proxy_headers=False,
    )


def init() -> None:
    """Create the data directory and migrate the database to the current schema."""
    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with database(settings) as db:
        say(err, f"database ready: {db.engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(init)
