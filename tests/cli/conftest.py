"""CLI fixtures: a fresh VALUECHAIN_HOME and config directory per test, a helper that runs one command,
and a served app (uvicorn in a thread) for the commands that act as a remote client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuechain.cli.main import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("VALUECHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("VALUECHAIN_DATABASE_URL", "VALUECHAIN_URL", "VALUECHAIN_API_KEY", "VALUECHAIN_PORT",
                 "VALUECHAIN_PUBLIC_URL", "VALUECHAIN_HUB_ENDPOINT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def run(runner: CliRunner, *args: str, code: int = 0, input: str | None = None) -> str:
    """Invoke ``valuechain *args``; assert the exit code; return stdout."""
    result = runner.invoke(app, list(args), catch_exceptions=False, input=input)
    assert result.exit_code == code, result.output
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(runner: CliRunner, tmp_path: Path) -> Iterator[str]:
    """The platform served over HTTP on a free port, on the same database as ``runner``; yields its URL."""
    import uvicorn

    from valuechain.app import create_app
    from valuechain.core.db import Database
    from valuechain.core.settings import Settings

    run(runner, "init")
    port = free_port()
    settings = Settings(home=tmp_path / "home", port=port, _env_file=None)  # type: ignore[call-arg]
    # Handing the database in keeps the served-process tuning (GC) out of the test process.
    db = Database(settings.resolved_database_url)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, database=db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        db.dispose()
