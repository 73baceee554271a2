"""``valuechain serve`` and ``valuechain init``."""

from __future__ import annotations

import os
import subprocess
import sys

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
    embedded = settings.finetune_worker
    if embedded is None:  # the embedded default: on SQLite the server's machine trains too
        embedded = settings.resolved_database_url.startswith("sqlite")
    command = [sys.executable, "-m", "valuechain", "worker", "--parent", str(os.getpid())]
    worker = subprocess.Popen(command) if embedded else None
    if worker is not None:
        say(err, f"fine-tuning worker started (pid {worker.pid})")
    try:
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
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)


def worker(
    once: bool = typer.Option(False, "--once", help="Run the queued jobs, then exit instead of polling."),
    parent: int = typer.Option(None, "--parent", help="Exit when this process (the server) is gone."),
) -> None:
    """Run a fine-tuning worker: claim queued jobs from the database and train them."""
    import logging.config

    from valuechain.core.logs import log_config
    from valuechain.finetune.worker import run_worker

    settings = Settings()
    logging.config.dictConfig(log_config(level=settings.log_level, fmt=settings.log_format))
    say(err, "fine-tuning worker polling the database for jobs")
    run_worker(settings, once=once, parent_pid=parent)


def init() -> None:
    """Create the data directory and migrate the database to the current schema."""
    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with database(settings) as db:
        say(err, f"database ready: {db.engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(init)
    app.command()(worker)
