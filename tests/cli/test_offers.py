"""``valuechain offer``: create, list, show and update offers without REST."""

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


def test_offer_lifecycle(chain: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    created = json.loads(
        run(chain, "offer", "create", "openlab/ol-7b", "--channel", "api", "--as", "openlab",
            "--no-eu", "--format", "json")
    )  # fmt: skip
    assert created["model"] == "openlab/ol-7b@1" and created["by"] == "openlab" and created["eu"] is False
    offer_id = created["id"]
    assert json.loads(run(chain, "offer", "show", offer_id, "--format", "json"))["id"] == offer_id
    apis = json.loads(run(chain, "offer", "list", "--channel", "api", "--format", "json"))
    assert offer_id in {o["id"] for o in apis} and {o["channel"] for o in apis} == {"api"}
    updated = json.loads(
        run(chain, "offer", "update", offer_id, "--brand", "OpenLab Cloud", "--eu", "--as", "openlab",
            "--format", "json")
    )  # fmt: skip
    assert updated["brand"] == "OpenLab Cloud" and updated["eu"] is True
    monkeypatch.setenv("COLUMNS", "80")
    listed = run(chain, "offer", "list")
    assert offer_id in listed and "openlab/ol-7b@1" in listed and "…" not in listed
    events = json.loads(run(chain, "audit", "list", "--action", "offer.*", "--format", "json"))
    assert [e["action"] for e in events][-2:] == ["offer.create", "offer.update"]


def test_another_organisation_cannot_update_an_offer(chain: CliRunner) -> None:
    offer_id = json.loads(
        run(
            chain,
            "offer",
            "create",
            "openlab/ol-7b",
            "--channel",
            "api",
            "--as",
            "openlab",
            "--format",
            "json",
        )
    )["id"]
    result = chain.invoke(app, ["offer", "update", offer_id, "--brand", "Stolen", "--as", "tuner"])
    assert result.exit_code == 1 and "not found" in result.output
    assert json.loads(run(chain, "offer", "show", offer_id, "--format", "json"))["brand"] == "openlab"


def test_a_visible_offer_of_another_organisation_is_forbidden_not_changed(chain: CliRunner) -> None:
    run(chain, "model", "update", "openlab/ol-7b", "--set", "visibility=public")
    offer_id = json.loads(
        run(
            chain,
            "offer",
            "create",
            "openlab/ol-7b",
            "--channel",
            "api",
            "--as",
            "openlab",
            "--format",
            "json",
        )
    )["id"]
    assert (
        json.loads(run(chain, "offer", "show", offer_id, "--as", "tuner", "--format", "json"))["id"]
        == offer_id
    )
    result = chain.invoke(app, ["offer", "update", offer_id, "--no-eu", "--as", "tuner"])
    assert result.exit_code == 1 and "belongs to another organisation" in result.output
    assert json.loads(run(chain, "offer", "show", offer_id, "--format", "json"))["eu"] is True
