"""The CLI as users run it: human output by default, ``--format json`` for machines, errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app
from valuechain.core.security import hash_secret

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "chain.yaml"


def test_key_create_prints_the_secret_once_as_json(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    created = json.loads(run(runner, "key", "create", "--org", "acme", "--format", "json"))
    assert created["key"].startswith("vc_") and created["prefix"] in created["key"]
    listed = json.loads(run(runner, "key", "list", "--org", "acme", "--format", "json"))
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    database = (tmp_path / "home" / "valuechain.db").read_bytes()
    assert created["key"].encode() not in database
    assert hash_secret(created["key"]).encode() in database
    revoked = json.loads(run(runner, "key", "revoke", created["id"], "--org", "acme", "--format", "json"))
    assert revoked["revoked_at"] is not None


def test_chain_check_import_export(runner: CliRunner, tmp_path: Path) -> None:
    assert json.loads(run(runner, "chain", "check", str(EXAMPLE), "--format", "json"))["valid"] is True
    report = json.loads(run(runner, "chain", "import", str(EXAMPLE), "--format", "json"))
    assert report["created"]["model"] == 3
    again = json.loads(run(runner, "chain", "import", str(EXAMPLE), "--format", "json"))
    assert again["created"] == {} and again["updated"] == {}
    out = tmp_path / "exported.yaml"
    run(runner, "chain", "export", "--out", str(out))
    assert json.loads(run(runner, "chain", "import", str(out), "--format", "json"))["created"] == {}
    models = json.loads(run(runner, "model", "list", "--format", "json"))
    assert {m["id"] for m in models} == {"openlab/ol-7b", "tuner/ol-7b-legal", "shop/helper"}
    lineage = json.loads(run(runner, "model", "lineage", "tuner/ol-7b-legal", "--format", "json"))
    assert [d["parent"] for d in lineage["parents"]] == ["openlab/ol-7b@1"]
    assert "intact" in run(runner, "audit", "verify")


def test_invalid_manifest_reports_lines_and_changes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("relation: finetune", "relation: rebrand"))
    result = runner.invoke(app, ["chain", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:39: derivations[0].relation:" in result.stdout
    result = runner.invoke(app, ["chain", "import", str(bad)])
    assert result.exit_code != 0
    assert json.loads(run(runner, "model", "list", "--format", "json")) == []


def test_unknown_org_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["key", "create", "--org", "nope"])
    assert result.exit_code == 1
    assert "organisation `nope` not found" in result.output
