"""``valuechain audit list|export``: the log filtered by organisation, action and time, as JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app


def _seed(runner: CliRunner) -> None:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    run(runner, "org", "create", "beta", "--name", "Beta", "--country", "DE")
    run(runner, "key", "create", "--org", "acme")
    run(runner, "key", "create", "--org", "beta")


def test_audit_list_filters_and_shows_slugs(runner: CliRunner) -> None:
    _seed(runner)
    everything = json.loads(run(runner, "audit", "list", "--format", "json"))
    assert [e["action"] for e in everything] == ["org.create", "org.create", "key.create", "key.create"]
    acme = json.loads(run(runner, "audit", "list", "--org", "acme", "--format", "json"))
    assert {e["org"] for e in acme} == {"acme"} and len(acme) == 2
    keys = json.loads(run(runner, "audit", "list", "--action", "key.*", "--format", "json"))
    assert [e["org"] for e in keys] == ["acme", "beta"]
    today = datetime.now(UTC).date()
    assert len(json.loads(run(runner, "audit", "list", "--since", str(today), "--format", "json"))) == 4
    assert (
        json.loads(
            run(runner, "audit", "list", "--until", str(today - timedelta(days=1)), "--format", "json")
        )
        == []
    )
    human = run(runner, "audit", "list", "--org", "beta")
    assert "beta" in human and "org_" not in human and " UTC" in human
    result = runner.invoke(app, ["audit", "list", "--since", "yesterday"])
    assert result.exit_code == 1 and "--since" in result.output


def test_audit_export_writes_json_lines_with_hashes(runner: CliRunner, tmp_path: Path) -> None:
    _seed(runner)
    lines = run(runner, "audit", "export", "--action", "key.create").splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["action"] for e in events] == ["key.create", "key.create"]
    assert all(len(e["hash"]) == 64 and e["after"]["role"] == "member" for e in events)
    out = tmp_path / "audit.jsonl"
    run(runner, "audit", "export", "--out", str(out))
    assert len(out.read_text().splitlines()) == 4
    assert "intact: 4 events, 4 signed checkpoints" in run(runner, "audit", "verify")


def test_audit_verify_catches_a_rewound_tail_through_the_checkpoints(
    runner: CliRunner, tmp_path: Path
) -> None:
    """CLI write commands anchor the chain as they end; deleting the tail and rewinding the head is caught."""
    import sqlite3

    _seed(runner)
    checkpoints = tmp_path / "home" / "audit" / "checkpoints.jsonl"
    assert [json.loads(line)["seq"] for line in checkpoints.read_text().splitlines()] == [1, 2, 3, 4]
    with sqlite3.connect(tmp_path / "home" / "valuechain.db") as conn:
        conn.execute("DELETE FROM audit_events WHERE seq > 2")
        conn.execute("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_events WHERE seq = 2)")
    result = runner.invoke(app, ["audit", "verify", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["events"] == 2 and report["checkpoints"] == 4
    assert sum("tail rewound" in p for p in report["problems"]) == 2
