"""``valuechain claim`` and ``valuechain agreement``: answering claims and giving agreements from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app

CHAIN = """
valuechain: 1
actors:
  - {id: alpha, name: Alpha, country: FR}
  - {id: beta, name: Beta, country: DE}
  - {id: gamma, name: Gamma, country: IT}
models:
  - {id: beta/base, public: true, output_modalities: [text]}
systems:
  - {id: alpha/screening, provider: alpha, deployers: [beta], annex_iii: [employment], eu_market: 2026-09-01}
"""


def test_claims_are_answered_and_agreements_given_from_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    chain = tmp_path / "chain.yaml"
    chain.write_text(CHAIN, encoding="utf-8")
    run(runner, "chain", "import", str(chain))  # the operator's import confirms on everyone's behalf
    [claim] = json.loads(
        run(runner, "claim", "list", "--as", "beta", "--direction", "incoming", "-f", "json")
    )
    assert (claim["field"], claim["status"], claim["claimant"]) == ("deployer", "confirmed", "alpha")
    assert json.loads(run(runner, "claim", "list", "--as", "gamma", "--format", "json")) == []
    # Only the named organisation answers; an outsider is told the claim does not exist.
    result = runner.invoke(app, ["claim", "reject", claim["id"], "--as", "gamma"])
    assert result.exit_code == 1 and "not found" in result.stderr
    assert "rejected by beta" in run(runner, "claim", "reject", claim["id"], "--as", "beta", "--reason", "no")
    obligations = json.loads(run(runner, "obligations", "--as-of", "2026-11-28", "--format", "json"))
    assert not any(o["actor"] == "beta" for o in obligations["obligations"])
    assert obligations["notes"][0]["note"].endswith("claimed by alpha, rejected by beta")
    human = run(runner, "obligations", "--as-of", "2026-11-28", "--actor", "beta")
    assert "note: beta as deployer of alpha/screening: claimed by alpha, rejected by beta" in human
    confirmed = json.loads(run(runner, "claim", "confirm", claim["id"], "--format", "json"))  # the operator
    assert confirmed["status"] == "confirmed" and confirmed["decided_by"] == "user:cli"

    agreement = json.loads(
        run(runner, "agreement", "create", "--as", "beta", "--agent", "alpha", "--model", "beta/base",
            "--channel", "white_label", "--channel", "marketplace", "--format", "json")
    )  # fmt: skip
    assert (agreement["owner"], agreement["agent"], agreement["channels"]) == (
        "beta", "alpha", ["marketplace", "white_label"],
    )  # fmt: skip
    held = json.loads(run(runner, "agreement", "list", "--as", "alpha", "--format", "json"))
    assert [a["id"] for a in held] == [agreement["id"]]
    result = runner.invoke(app, ["agreement", "revoke", agreement["id"], "--as", "alpha"])
    assert result.exit_code == 1 and "belongs to another organisation" in result.stderr
    assert "revoked" in run(runner, "agreement", "revoke", agreement["id"], "--as", "beta")
