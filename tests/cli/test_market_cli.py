"""The commercial channels through the CLI (issue 11): credits, listing, buying (by offer), traceable
copies and trace, a hire's renewal and cancellation, invoices; the ledger checks after every flow."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gguf
import numpy as np
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.accounts.principal import system_principal
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.hub.storage import open_blob_store
from valuechain.registry.schemas import ArtifactIn, ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version


def _seed(tmp_path: Path) -> tuple[str, str]:
    settings = Settings()
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("w", np.arange(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    blob = open_blob_store(settings).put_bytes(path.read_bytes())
    from valuechain.accounts.directory import org_id_for_slug

    with db.unit_of_work() as session:
        acme = system_principal(org_id=org_id_for_slug(session, "acme") or "", org_slug="acme")
        create_model(session, ModelCreate(name="tiny", visibility="public"), principal=acme)
        files = [ArtifactIn(path="tiny.gguf", sha256=blob.sha256, size=blob.size)]
        create_version(session, "acme/tiny", VersionCreate(label="1", artifacts=files), principal=acme)
        sale = create_offer(
            session, OfferCreate(model="acme/tiny@1", channel="software_sale"), principal=acme
        )  # type: ignore[arg-type]
        api = create_offer(session, OfferCreate(model="acme/tiny@1", channel="api"), principal=acme)  # type: ignore[arg-type]
    db.dispose()
    return sale.id, api.id


def _ledger_ok(runner: CliRunner) -> None:
    out = json.loads(run(runner, "usage", "ledger-check", "--format", "json"))
    assert out["problems"] == []


def test_sell_hire_trace_and_invoice_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    for slug, country in (("acme", "FR"), ("devco", "DE"), ("outco", "US")):
        run(runner, "org", "create", slug, "--name", slug.title(), "--country", country)
    sale, api = _seed(tmp_path)
    out = run(runner, "credits", "grant", "devco", "30", "--key", "g1", "--format", "json")
    assert json.loads(out)["balance"] == 30_000_000
    run(runner, "credits", "grant", "outco", "30", "--key", "g2")
    listing = json.loads(
        run(
            runner,
            "market",
            "create",
            sale,
            "--kind",
            "sale",
            "--title",
            "Tiny",
            "--price",
            "12.50",
            "--licence",
            "proprietary",
            "--as",
            "acme",
            "--format",
            "json",
        )  # fmt: skip
    )
    run(runner, "market", "create", sale, "--kind", "sale", "--title", "x", "--price", "1", "--licence", "x",
        "--as", "devco", code=1)  # fmt: skip
    rows = json.loads(run(runner, "market", "list", "--kind", "sale", "--format", "json"))
    assert [r["id"] for r in rows] == [listing["id"]]
    shas = {}
    for org in ("devco", "outco"):
        lic = json.loads(run(runner, "market", "buy", sale, "--as", org, "--format", "json"))
        _ledger_ok(runner)
        target = tmp_path / f"{org}.gguf"
        run(runner, "market", "download", lic["id"], "tiny.gguf", "-o", str(target), "--as", org)
        shas[org] = hashlib.sha256(target.read_bytes()).hexdigest()
        traced = json.loads(run(runner, "trace", str(target), "--as", "acme", "--format", "json"))
        assert (traced["licence_id"], traced["buyer"], traced["offer"]) == (lic["id"], org, sale)
        signed = tmp_path / f"{org}.json"
        signed.write_text(run(runner, "market", "manifest", lic["id"], "--as", org))
        copy = tmp_path / "tiny.gguf"
        copy.write_bytes(target.read_bytes())
        assert json.loads(
            run(runner, "market", "verify", str(signed), "--file", str(copy), "--format", "json")
        )["ok"]
    assert shas["devco"] != shas["outco"]
    run(runner, "trace", str(tmp_path / "devco.gguf"), "--as", "outco", code=1)  # not outco's sale
    run(runner, "market", "buy", sale, "--as", "devco", "--price", "1", code=1)  # stale price
    hire = json.loads(
        run(
            runner,
            "market",
            "create",
            api,
            "--kind",
            "hire",
            "--title",
            "Tiny API",
            "--price",
            "2",
            "--period",
            "3600",
            "--licence",
            "proprietary",
            "--as",
            "acme",
            "--format",
            "json",
        )  # fmt: skip
    )
    lic = json.loads(run(runner, "market", "buy", hire["id"], "--as", "devco", "--format", "json"))
    renewed = json.loads(run(runner, "market", "renew", lic["id"], "--as", "devco", "--format", "json"))
    assert renewed["expires_at"] > lic["expires_at"]
    assert (
        json.loads(run(runner, "market", "cancel", lic["id"], "--as", "devco", "--format", "json"))["status"]
        == "cancelled"
    )
    balance = json.loads(run(runner, "credits", "show", "--as", "devco", "--format", "json"))
    assert balance["balance"] == 30_000_000 - 12_500_000 - 2 * 2_000_000
    _ledger_ok(runner)
    assert json.loads(run(runner, "market", "renew-due", "--format", "json")) == {"renewed": 0}
    charge = json.loads(run(runner, "market", "licences", "--as", "devco", "--format", "json"))
    assert {r["kind"] for r in charge} == {"sale", "hire"}
    csv = run(runner, "invoice", "devco", "--charge", _first_charge(), "--format", "csv")
    assert "12.50" in csv and "INV-" in csv
    _ledger_ok(runner)


def _first_charge() -> str:
    from sqlalchemy import select

    from valuechain.market.models import Charge

    db = Database(Settings().resolved_database_url)
    with db.session() as session:
        charge = session.scalars(select(Charge.id).order_by(Charge.created_at)).first()
    db.dispose()
    assert charge is not None
    return charge
