"""``valuechain system``: create, list, show and update AI systems without REST."""

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


def test_system_lifecycle(chain: CliRunner) -> None:
    created = json.loads(
        run(chain, "system", "create", "contracts", "--as", "tuner", "--model", "tuner/ol-7b-legal",
            "--deployer", "shop", "--purpose", "contract review", "--interacts-with-persons",
            "--annex-iii", "justice_democracy", "--format", "json")
    )  # fmt: skip
    assert created["id"] == "tuner/contracts" and created["deployers"] == ["shop"]
    assert created["models"] == ["tuner/ol-7b-legal@1"] and created["interacts_with_persons"] is True
    updated = json.loads(
        run(chain, "system", "update", "tuner/contracts", "--as", "tuner", "--deployer", "tuner",
            "--deployer", "shop", "--no-interacts-with-persons", "--eu-market", "2027-01-01",
            "--format", "json")
    )  # fmt: skip
    assert updated["deployers"] == ["shop", "tuner"] and updated["interacts_with_persons"] is False
    assert updated["eu_market"] == "2027-01-01" and updated["annex_iii"] == ["justice_democracy"]
    ids = {s["id"] for s in json.loads(run(chain, "system", "list", "--format", "json"))}
    assert ids == {"shop/assistant", "tuner/contracts"}
    assert (
        json.loads(run(chain, "system", "show", "tuner/contracts", "--format", "json"))["id"]
        == "tuner/contracts"
    )
    assert "tuner/contracts" in run(chain, "system", "list")
    actions = [
        e["action"] for e in json.loads(run(chain, "audit", "list", "--org", "tuner", "--format", "json"))
    ]
    assert actions[-2:] == ["system.create", "system.update"]


def test_system_update_refuses_bad_input_and_other_providers(chain: CliRunner) -> None:
    before = run(chain, "system", "show", "shop/assistant", "--format", "json")
    for args in (["--eu-market", "soon"], ["--deployer", "nobody"], ["--model", "shop/missing"]):
        result = chain.invoke(app, ["system", "update", "shop/assistant", *args])
        assert result.exit_code == 1, result.output
    result = chain.invoke(app, ["system", "update", "shop/assistant", "--purpose", "x", "--as", "tuner"])
    assert result.exit_code == 1 and "not found" in result.output
    assert run(chain, "system", "show", "shop/assistant", "--format", "json") == before
