"""Bad input to the commercial channels through the CLI (issue 11): each case is a clear message on stderr
and exit code 1, without a traceback, and charges nothing (every balance, transaction, charge, licence and
sale as before; `usage ledger-check` passes). A retry with the same key buys once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from tests.ledger import money_snapshot
from valuechain.accounts.principal import system_principal
from valuechain.accounts.schemas import OrgCreate
from valuechain.accounts.service import create_org
from valuechain.cli.context import org_principal
from valuechain.cli.main import app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.market import credits, listings, purchases
from valuechain.registry.claims import create_agreement, revoke_agreement
from valuechain.registry.schemas import AgreementCreate, ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version

EUR = 1_000_000


def _listing(session, seller: str, offer: str, **changes: object) -> str:  # type: ignore[no-untyped-def]
    data = {"offer": offer, "kind": "hire", "title": "tiny, one hour", "price": EUR, "period_seconds": 3600,
            "licence": "proprietary"} | changes  # fmt: skip
    return listings.create_listing(
        session,
        listings.ListingCreate.model_validate(data),
        principal=org_principal(session, seller),
        fee_bps=1000,
    ).id


def _seed(db: Database) -> dict[str, str]:
    """As tests/market/test_bad_input.py's shop: acme's hire and sale, resell's resale under an agreement
    acme revoked (buyco bought one before), a live reseller agreement, a private offer; buyco holds 5 EUR."""
    op = system_principal()
    with db.unit_of_work() as session:
        for slug in ("acme", "buyco", "broke", "resell"):
            create_org(session, OrgCreate(slug=slug, name=slug.title(), country="FR"), principal=op)
    with db.unit_of_work() as session:
        acme = org_principal(session, "acme")
        create_model(session, ModelCreate(name="tiny", visibility="public"), principal=acme)
        create_model(session, ModelCreate(name="secret"), principal=acme)
        create_model(
            session,
            ModelCreate(name="house", visibility="public"),
            principal=org_principal(session, "resell"),
        )
        create_version(session, "acme/tiny", VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        create_version(session, "acme/secret", VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        api = create_offer(session, OfferCreate(model="acme/tiny@1", channel="api"), principal=acme).id  # type: ignore[arg-type]
        hidden = create_offer(session, OfferCreate(model="acme/secret@1", channel="api"), principal=acme).id  # type: ignore[arg-type]
        agreement = create_agreement(
            session,
            AgreementCreate(agent="resell", model="acme/tiny", channels=["software_sale", "marketplace"]),  # type: ignore[list-item]
            principal=acme,
        ).id
    with db.unit_of_work() as session:
        resell = org_principal(session, "resell")
        weights = create_offer(
            session, OfferCreate(model="acme/tiny@1", channel="software_sale"), principal=resell
        ).id  # type: ignore[arg-type]
        ids = {
            "api": api,
            "hidden": hidden,
            "hire": _listing(session, "acme", api),
            "sale": _listing(session, "acme", api, kind="sale", title="tiny, perpetual", period_seconds=None),
            "resale": _listing(session, "resell", weights, title="tiny weights, resold"),
        }
        credits.grant(session, "buyco", 5 * EUR, principal=op, idempotency_key="g-buyco")
    with db.unit_of_work() as session:
        buyco = org_principal(session, "buyco")
        purchases.buy(session, ids["hire"], principal=buyco, fee_bps=1000, idempotency_key="first")
        ids["resale_licence"] = purchases.buy(
            session, ids["resale"], principal=buyco, fee_bps=1000, idempotency_key="resale"
        ).id
    with db.unit_of_work() as session:
        revoke_agreement(session, agreement, principal=org_principal(session, "acme"))
    return ids


@pytest.fixture
def shop(runner: CliRunner) -> Iterator[tuple[Database, dict[str, str]]]:
    run(runner, "init")
    db = Database(Settings().resolved_database_url)
    ids = _seed(db)
    grant = json.loads(run(runner, "reseller", "grant", "resell", "acme/tiny", "--wholesale-input", "1000000",
                           "--wholesale-output", "2000000", "--max-markup", "50", "--max-customers", "5",
                           "--as", "acme", "-f", "json"))  # fmt: skip
    ids["agreement"] = grant["agreement"]
    yield db, ids
    db.dispose()


def _refused(runner: CliRunner, db: Database, args: list[str], says: str) -> None:
    before = money_snapshot(db)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a handled error, not a crash
    assert says in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert result.stdout == ""  # data goes to stdout only on success
    assert money_snapshot(db) == before
    assert json.loads(run(runner, "usage", "ledger-check", "--format", "json"))["ok"] is True


# case → (arguments with {placeholders} from the seeded ids, what stderr says)
CASES = {
    "buy without credit": ("market buy {hire} --as broke --price 1", "credits grant"),
    "buy at a stale price": ("market buy {hire} --as buyco --price 0.50", "the price of listing"),
    "buy again with a key spent on another listing": (
        "market buy {sale} --as buyco --key first", "idempotency key already used"),
    "buy under a revoked agreement": ("market buy {resale} --as buyco", "revoked agreement"),
    "renew under a revoked agreement": ("market renew {resale_licence} --as buyco", "revoked agreement"),
    "white label with a markup outside the agreement": (
        "whitelabel create {agreement} --name nimbus --brand Nimbus --markup 51 --as resell",
        "outside the agreement, which allows at most 50%"),
    "kit of an offer the caller cannot see": ("kit {hidden} --output {out} --as buyco", "not found"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_cli_refuses_with_a_message_and_charges_nothing(
    runner: CliRunner, shop: tuple[Database, dict[str, str]], tmp_path: Path, case: str
) -> None:
    db, ids = shop
    template, says = CASES[case]
    out = tmp_path / "kit.zip"
    _refused(runner, db, template.format(**ids, out=out).split(), says)
    assert not out.exists()


def test_cli_buys_once_with_the_same_key(runner: CliRunner, shop: tuple[Database, dict[str, str]]) -> None:
    db, ids = shop
    before = json.loads(run(runner, "credits", "show", "--as", "buyco", "--format", "json"))["balance"]
    args = [
        "market",
        "buy",
        ids["hire"],
        "--as",
        "buyco",
        "--price",
        "1",
        "--key",
        "once",
        "--format",
        "json",
    ]
    first, again = (json.loads(run(runner, *args)) for _ in range(2))
    assert first["id"] == again["id"] and first["charge"] == again["charge"]
    after = json.loads(run(runner, "credits", "show", "--as", "buyco", "--format", "json"))["balance"]
    assert after == before - EUR
    assert json.loads(run(runner, "usage", "ledger-check", "--format", "json"))["ok"] is True


def test_cli_refuses_an_expired_agreement(runner: CliRunner, shop: tuple[Database, dict[str, str]]) -> None:
    db, _ = shop
    expires = (datetime.now() + timedelta(seconds=3)).replace(microsecond=0)  # local time, as typed
    grant = json.loads(run(runner, "reseller", "grant", "resell", "acme/tiny", "--wholesale-input", "1000000",
                           "--wholesale-output", "2000000", "--max-markup", "50", "--max-customers", "5",
                           "--expires", expires.strftime("%Y-%m-%dT%H:%M:%S"), "--as", "acme", "-f", "json"))  # fmt: skip
    created = json.loads(run(runner, "whitelabel", "create", grant["agreement"], "--name", "nimbus",
                             "--brand", "Nimbus", "--markup", "10", "--as", "resell", "-f", "json"))  # fmt: skip
    time.sleep(max(0.0, (expires - datetime.now()).total_seconds()) + 0.2)
    _refused(runner, db, ["whitelabel", "create", grant["agreement"], "--name", "nimbus-2", "--brand", "Nimbus",
                          "--markup", "10", "--as", "resell"], "expired")  # fmt: skip
    _refused(runner, db, ["whitelabel", "customer", created["offer"], "buyco", "--issue-key", "--as", "resell"],
             "expired")  # fmt: skip
