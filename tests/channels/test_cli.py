"""The channels through the CLI (issue 11): kit, lifecycle, notifications, reseller and white label."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.conftest import run, runner  # noqa: F401  (the fixture, shared)
from valuechain.accounts.principal import system_principal
from valuechain.accounts.schemas import OrgCreate
from valuechain.accounts.service import create_org
from valuechain.cli.context import org_principal
from valuechain.cli.main import app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.market import service as market
from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version


def _seed() -> tuple[str, str]:
    """acme's public acme/tiny (versions 1 and 2) with an api offer devco is entitled to; a private one."""
    db = Database(Settings().resolved_database_url)
    op = system_principal()
    with db.unit_of_work() as session:
        for slug in ("acme", "devco", "resell", "shopco"):
            create_org(session, OrgCreate(slug=slug, name=slug.title(), country="FR"), principal=op)
    with db.unit_of_work() as session:
        acme, resell = org_principal(session, "acme"), org_principal(session, "resell")
        create_model(session, ModelCreate(name="tiny", visibility="public"), principal=acme)
        create_model(session, ModelCreate(name="secret"), principal=acme)
        create_model(session, ModelCreate(name="house", visibility="public"), principal=resell)
        for label in ("1", "2"):
            create_version(session, "acme/tiny", VersionCreate(label=label), principal=acme)  # type: ignore[call-arg]
        create_version(session, "acme/secret", VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        offer = create_offer(session, OfferCreate(model="acme/tiny@1", channel="api"), principal=acme)  # type: ignore[arg-type]
        hidden = create_offer(session, OfferCreate(model="acme/secret@1", channel="api"), principal=acme)  # type: ignore[arg-type]
        market.grant(session, offer.id, "devco", principal=acme)
        ids = offer.id, hidden.id
    db.dispose()
    return ids


def _fails(runner: CliRunner, *args: str) -> str:  # noqa: F811
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    return result.stderr


def test_channels_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    run(runner, "init")
    offer, hidden = _seed()
    # kits: deterministic; a hidden offer answers as a missing one
    first = json.loads(
        run(runner, "kit", offer, "--output", str(tmp_path / "a.zip"), "--as", "devco", "-f", "json")
    )
    again = json.loads(
        run(runner, "kit", offer, "--output", str(tmp_path / "b.zip"), "--as", "devco", "-f", "json")
    )
    assert (
        first["sha256"] == again["sha256"]
        and (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    )
    assert "not found" in _fails(runner, "kit", hidden, "--output", str(tmp_path / "c.zip"), "--as", "devco")
    assert not (tmp_path / "c.zip").exists()
    # lifecycle: deprecation notifies devco
    change = json.loads(run(runner, "lifecycle", "set", "acme/tiny@1", "deprecated", "--sunset",
                            "2030-01-01T00:00:00+00:00", "--successor", "acme/tiny@2", "--as", "acme", "-f", "json"))  # fmt: skip
    assert change["notified"] == ["devco"] and change["after"]["stage"] == "deprecated"
    assert "forward" in _fails(runner, "lifecycle", "set", "acme/tiny@1", "active", "--as", "acme")
    notes = json.loads(run(runner, "notification", "list", "--as", "devco", "-f", "json"))
    assert [n["subject"] for n in notes] == ["acme/tiny@1"]
    assert json.loads(run(runner, "notification", "list", "--as", "shopco", "-f", "json")) == []
    versions = json.loads(run(runner, "lifecycle", "list", "acme/tiny", "-f", "json"))
    assert [(v["version"], v["stage"]) for v in versions] == [
        ("acme/tiny@1", "deprecated"),
        ("acme/tiny@2", "active"),
    ]
    # maintenance
    run(runner, "support", "set", offer, "--response-hours", "8", "--patch-days", "30", "--as", "acme")
    level = json.loads(run(runner, "support", "show", offer, "--as", "devco", "-f", "json"))
    assert level["terms"]["response_time_hours"] == 8 and level["requests"] == 0
    # white label
    grant = json.loads(run(runner, "reseller", "grant", "resell", "acme/tiny", "--wholesale-input", "1000000",
                           "--wholesale-output", "2000000", "--max-markup", "30", "--max-customers", "1",
                           "--as", "acme", "-f", "json"))  # fmt: skip
    agreement = grant["agreement"]
    assert "outside the agreement" in _fails(runner, "whitelabel", "create", agreement, "--name", "nimbus",
                                             "--brand", "Nimbus", "--markup", "31", "--as", "resell")  # fmt: skip
    assert "not found" in _fails(runner, "whitelabel", "create", agreement, "--name", "nimbus",
                                 "--brand", "Nimbus", "--markup", "10", "--as", "shopco")  # fmt: skip
    created = json.loads(run(runner, "whitelabel", "create", agreement, "--name", "nimbus", "--brand", "Nimbus",
                             "--markup", "30", "--version", "2", "--as", "resell", "-f", "json"))  # fmt: skip
    assert created["upstream"] == "acme/tiny@2" and created["input_per_mtok"] == 1_300_000
    # consent: shopco never asked, so the reseller cannot bill its wallet; the refusal names the command
    refusal = _fails(
        runner, "whitelabel", "customer", created["offer"], "shopco", "--issue-key", "--as", "resell"
    )
    assert f"valuechain access request {created['offer']} --as shopco" in " ".join(refusal.split())
    assert json.loads(run(runner, "key", "list", "--org", "shopco", "-f", "json")) == []
    asked = json.loads(run(runner, "access", "request", created["offer"], "--as", "shopco", "-f", "json"))
    assert asked["status"] == "pending"
    run(runner, "access", "request", created["offer"], "--as", "devco")
    customer = json.loads(run(runner, "whitelabel", "customer", created["offer"], "shopco", "--issue-key",
                              "--as", "resell", "-f", "json"))  # fmt: skip
    assert customer["key"].startswith("vc_")
    assert "caps customers" in _fails(
        runner, "whitelabel", "customer", created["offer"], "devco", "--as", "resell"
    )
    assert [
        r["reseller"] for r in json.loads(run(runner, "reseller", "list", "--as", "resell", "-f", "json"))
    ] == ["resell"]
    run(runner, "usage", "ledger-check")


def test_white_label_bad_input_and_revocation_through_the_cli(runner: CliRunner) -> None:  # noqa: F811
    """Each refusal is a message and exit code 1 that changes nothing; the ledger balances throughout."""
    run(runner, "init")
    _seed()
    grant = ["reseller", "grant", "resell", "acme/tiny", "--wholesale-input", "1000000",
             "--wholesale-output", "2000000", "--max-markup", "30", "--max-customers", "1", "--as", "acme"]  # fmt: skip
    assert "wholesale_input_per_mtok" in _fails(runner, *grant[:5], str(10**19), *grant[6:])
    agreement = json.loads(run(runner, *grant, "-f", "json"))["agreement"]

    def offer(name: str, brand: str) -> str:
        created = run(runner, "whitelabel", "create", agreement, "--name", name, "--brand", brand,
                      "--markup", "30", "--as", "resell", "-f", "json")  # fmt: skip
        return str(json.loads(created)["offer"])

    first, second = offer("nimbus", "Nimbus"), offer("nimbus-lite", "Nimbus Lite")
    assert "outside the agreement" in _fails(runner, "whitelabel", "create", agreement, "--name", "n3",
                                             "--brand", "N3", "--markup", "31", "--as", "resell")  # fmt: skip
    for offer_id, slug in ((first, "shopco"), (second, "devco"), (first, "devco")):
        run(runner, "access", "request", offer_id, "--as", slug)
    key = json.loads(run(runner, "whitelabel", "customer", first, "shopco", "--issue-key", "--as", "resell",
                         "-f", "json"))  # fmt: skip
    # the cap is the agreement's: the second offer does not make room for a second customer
    assert "caps customers at 1" in _fails(
        runner, "whitelabel", "customer", second, "devco", "--as", "resell"
    )
    keys = json.loads(run(runner, "key", "list", "--org", "shopco", "-f", "json"))
    assert [k["offers"] for k in keys] == [[first]] and key["key"].startswith("vc_")
    # revocation: the owner only
    assert "belongs to another organisation" in _fails(
        runner, "agreement", "revoke", agreement, "--as", "resell"
    )
    assert "not found" in _fails(runner, "agreement", "revoke", agreement, "--as", "devco")
    run(runner, "agreement", "revoke", agreement, "--as", "acme")
    assert "revoked" in _fails(runner, "whitelabel", "customer", first, "devco", "--as", "resell")
    assert "revoked" in _fails(runner, "whitelabel", "create", agreement, "--name", "n4", "--brand", "N4",
                               "--markup", "0", "--as", "resell")  # fmt: skip
    rows = json.loads(run(runner, "reseller", "list", "--as", "resell", "-f", "json"))
    assert [r["revoked"] for r in rows] == [True]
    run(runner, "usage", "ledger-check")
