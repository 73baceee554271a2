"""``valuechain login|logout|whoami`` against a served app, the env overrides, and 401s that say what to do."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app


@pytest.fixture
def secret(runner: CliRunner, served: str) -> str:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    return run(runner, "key", "create", "--org", "acme").strip()


def _credentials(tmp_path: Path) -> Path:
    return tmp_path / "config" / "valuechain" / "credentials.json"


def test_login_stores_a_checked_key_readable_only_by_the_user(
    runner: CliRunner, served: str, secret: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["login", "--url", served + "/"], input=secret + "\n")
    assert result.exit_code == 0, result.output
    assert f"logged in to {served} as acme (member)" in result.stderr
    path = _credentials(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["servers"][served]["key"] == secret
    me = json.loads(run(runner, "whoami", "--format", "json"))
    assert me["org"] == "acme" and me["url"] == served and me["key_source"] == str(path)
    assert "acme at " + served in run(runner, "whoami")
    run(runner, "logout")
    assert json.loads(path.read_text())["servers"] == {}
    result = runner.invoke(app, ["whoami"])
    assert result.exit_code == 1
    assert "run `valuechain login --url" in result.output and "VALUECHAIN_API_KEY" in result.output


def test_a_wrong_key_is_refused_and_nothing_is_stored(
    runner: CliRunner, served: str, secret: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["login", "--url", served], input="vc_wrongwrong_nope\n")
    assert result.exit_code == 1
    assert f"valuechain login --url {served}" in result.output
    assert not _credentials(tmp_path).exists()
    result = runner.invoke(app, ["login", "--url", served], input="\n")
    assert result.exit_code == 1 and "no key given" in result.output


def test_environment_overrides_the_stored_login(
    runner: CliRunner, served: str, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(runner, "login", "--url", served, input=secret)
    monkeypatch.setenv("VALUECHAIN_API_KEY", "vc_badbadbad0_x")
    result = runner.invoke(app, ["whoami"])
    assert result.exit_code == 1
    assert "rejected the key from VALUECHAIN_API_KEY" in result.output
    assert f"run `valuechain login --url {served}` or set VALUECHAIN_API_KEY" in result.output
    monkeypatch.delenv("VALUECHAIN_API_KEY")
    # A stored key is never sent to another server.
    monkeypatch.setenv("VALUECHAIN_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["whoami"])
    assert result.exit_code == 1 and "no API key for http://127.0.0.1:9" in result.output
    monkeypatch.setenv("VALUECHAIN_API_KEY", secret)
    monkeypatch.setenv("VALUECHAIN_URL", served)
    assert json.loads(run(runner, "whoami", "--format", "json"))["key_source"] == "VALUECHAIN_API_KEY"


def test_hub_commands_use_the_login_and_a_401_names_the_fix(
    runner: CliRunner, served: str, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALUECHAIN_URL", served)
    result = runner.invoke(app, ["hub", "accept", "acme/none", "--token", "vc_badbadbad0_x"])
    assert result.exit_code == 1
    assert "rejected the key from --token" in result.output
    assert f"run `valuechain login --url {served}` or set VALUECHAIN_API_KEY" in result.output
    run(runner, "login", input=secret)
    result = runner.invoke(app, ["hub", "accept", "acme/none"])
    assert result.exit_code == 1 and "401" not in result.output and "not found" in result.output.lower()
