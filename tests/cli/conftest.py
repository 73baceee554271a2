"""CLI fixtures: a fresh VALUECHAIN_HOME per test and a helper that runs one command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuechain.cli.main import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("VALUECHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VALUECHAIN_DATABASE_URL", raising=False)
    return CliRunner()


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    """Invoke ``valuechain *args``; assert the exit code; return stdout."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout
