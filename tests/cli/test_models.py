"""``valuechain model``: whole ids at 80 columns, and ``model update`` for what needed REST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "chain.yaml"


@pytest.fixture
def chain(runner: CliRunner) -> CliRunner:
    run(runner, "chain", "import", str(EXAMPLE))
    return runner


def test_model_list_shows_whole_ids_at_80_columns(chain: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    listed = run(chain, "model", "list")
    for model_id in ("openlab/ol-7b", "tuner/ol-7b-legal", "shop/helper"):
        assert model_id in listed
    assert "…" not in listed and max(map(len, listed.splitlines())) <= 80


def test_model_update_changes_facts_and_is_audited(chain: CliRunner, tmp_path: Path) -> None:
    updated = json.loads(
        run(chain, "model", "update", "tuner/ol-7b-legal", "--set", "weights_public=true",
            "--set", "eu_business_users=12000", "--set", "output_modalities=[text]", "--format", "json")
    )  # fmt: skip
    assert updated["weights_public"] is True and updated["eu_business_users"] == 12000
    facts = tmp_path / "facts.yaml"
    facts.write_text("description: a legal assistant\nvisibility: public\n")
    run(chain, "model", "update", "tuner/ol-7b-legal", "--file", str(facts), "--as", "tuner")
    shown = json.loads(run(chain, "model", "show", "tuner/ol-7b-legal", "--format", "json"))
    assert shown["description"] == "a legal assistant" and shown["visibility"] == "public"
    assert "weights_public" in run(chain, "model", "show", "tuner/ol-7b-legal")
    events = json.loads(run(chain, "audit", "list", "--action", "model.update", "--format", "json"))
    assert [e["subject_id"] for e in events] == ["tuner/ol-7b-legal"] * 2
    assert events[1]["org"] == "tuner"


def test_model_update_refuses_bad_input_and_changes_nothing(chain: CliRunner) -> None:
    before = run(chain, "model", "show", "tuner/ol-7b-legal", "--format", "json")
    for args in (["--set", "parameters=-1"], ["--set", "owner=shop"], ["--set", "nonsense"], []):
        result = chain.invoke(app, ["model", "update", "tuner/ol-7b-legal", *args])
        assert result.exit_code == 1, result.output
        assert "error" in result.output
    result = chain.invoke(app, ["model", "update", "openlab/ol-7b", "--set", "weights_public=false",
                                "--as", "tuner"])  # fmt: skip
    assert result.exit_code == 1 and "not found" in result.output
    assert run(chain, "model", "show", "tuner/ol-7b-legal", "--format", "json") == before
