"""Marketplace end to end through REST (issue 11): credits, listings, sales with traceable copies, hires
that expire on /v1 and downloads, invoices; the ledger balances after every flow."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_key, make_org
from valuechain.accounts.principal import Principal, system_principal
from valuechain.accounts.roles import Role, Scope
from valuechain.core.db import Database
from valuechain.core.errors import ConflictError
from valuechain.core.settings import Settings
from valuechain.hub.storage import open_blob_store
from valuechain.market import ledger, listings, purchases
from valuechain.market.copies import verify_manifest
from valuechain.registry.schemas import ArtifactIn, ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version

EUR = 1_000_000


def _gguf(path: Path) -> bytes:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.name", "tiny")
    writer.add_tensor("w", np.arange(16, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


@dataclass
class Market:
    client: TestClient
    db: Database
    keys: dict[str, str]
    sale_offer: str
    api_offer: str

    def h(self, org: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[org]}", **extra}

    def check_ledger(self) -> None:
        with self.db.session() as session:
            assert ledger.verify(session).problems == []


@pytest.fixture
def market(db: Database, settings: Settings, tmp_path: Path) -> Iterator[Market]:
    for slug, country in (("acme", "FR"), ("devco", "DE"), ("outco", "US"), ("resell", "IT")):
        make_org(db, slug, country)
    data = _gguf(tmp_path / "tiny.gguf")
    store = open_blob_store(settings)
    blob = store.put_bytes(data)
    readme = store.put_bytes(b"# tiny\n")
    acme = system_principal(org_id=_org(db, "acme"), org_slug="acme")
    with db.unit_of_work() as session:
        create_model(session, ModelCreate(name="tiny", visibility="public"), principal=acme)
        files = [
            ArtifactIn(path="tiny.gguf", sha256=blob.sha256, size=blob.size),
            ArtifactIn(path="README.md", sha256=readme.sha256, size=readme.size),
        ]
        create_version(session, "acme/tiny", VersionCreate(label="1", artifacts=files), principal=acme)
        sale = create_offer(
            session, OfferCreate(model="acme/tiny@1", channel="software_sale"), principal=acme
        )  # type: ignore[arg-type]
        api = create_offer(session, OfferCreate(model="acme/tiny@1", channel="api"), principal=acme)  # type: ignore[arg-type]
        sale_offer, api_offer = sale.id, api.id
    keys = {s: make_key(db, s, "admin") for s in ("acme", "devco", "outco", "resell")}
    keys["operator"] = make_key(db, "acme", "admin", operator=True)
    from valuechain.app import create_app

    with TestClient(create_app(settings, database=db)) as client:
        yield Market(client, db, keys, sale_offer, api_offer)


def _org(db: Database, slug: str) -> str:
    from valuechain.accounts.directory import org_id_for_slug

    with db.session() as session:
        return org_id_for_slug(session, slug) or ""


def _grant(m: Market, org: str, amount: int, key: str) -> None:
    r = m.client.post(
        "/api/v1/credits/grants",
        json={"org": org, "amount": amount, "idempotency_key": key},
        headers=m.h("operator"),
    )
    assert r.status_code == 201, r.text


def _list(m: Market, org: str, **body: object) -> dict:
    payload = {
        "offer": m.sale_offer,
        "kind": "sale",
        "title": "Tiny weights",
        "price": 10 * EUR,
        "licence": "proprietary",
    }
    r = m.client.post("/api/v1/market/listings", json=payload | body, headers=m.h(org))
    assert r.status_code == 201, r.text
    return r.json()


def _buy(m: Market, org: str, listing: dict, key: str, price: int | None = None) -> object:
    return m.client.post(
        f"/api/v1/market/listings/{listing['id']}/buy",
        json={"price": listing["price"] if price is None else price},
        headers=m.h(org, **{"Idempotency-Key": key}),
    )


def test_credits_are_granted_by_the_operator_only_and_visible_to_their_org(market: Market) -> None:
    m = market
    r = m.client.post(
        "/api/v1/credits/grants",
        json={"org": "devco", "amount": EUR, "idempotency_key": "g"},
        headers=m.h("devco"),
    )
    assert r.status_code in (403, 404)
    _grant(m, "devco", 5 * EUR, "g1")
    _grant(m, "devco", 5 * EUR, "g1")  # the same key grants once
    assert m.client.get("/api/v1/credits", headers=m.h("devco")).json()["balance"] == 5 * EUR
    assert m.client.get("/api/v1/credits", headers=m.h("outco")).json()["balance"] == 0  # isolation
    m.check_ledger()


def test_sale_pays_seller_fee_and_shares_and_gives_each_buyer_a_traceable_copy(
    market: Market, settings: Settings
) -> None:
    m = market
    listing = _list(m, "acme", shares=[{"org": "resell", "bps": 500}])
    for org in ("devco", "outco"):
        _grant(m, org, 20 * EUR, f"g-{org}")
    shas, files = {}, {}
    for org in ("devco", "outco"):
        r = _buy(m, org, listing, "k1")
        assert r.status_code == 201, r.text
        licence = r.json()
        assert _buy(m, org, listing, "k1").json()["id"] == licence["id"]  # idempotent
        d = m.client.get(f"/api/v1/licences/{licence['id']}/files/tiny.gguf", headers=m.h(org))
        assert d.status_code == 200, d.text
        shas[org] = hashlib.sha256(d.content).hexdigest()
        assert d.headers["X-Content-SHA256"] == shas[org]
        files[org] = d.content
        manifest = m.client.get(f"/api/v1/licences/{licence['id']}/manifest", headers=m.h(org)).json()
        key = m.client.get("/api/v1/market/signing-key", headers=m.h(org)).json()["public_key"]
        assert verify_manifest(manifest, public_key_b64=key, files={"tiny.gguf": d.content}) == []
        manifest["manifest"]["buyer"] = "someone"
        assert verify_manifest(manifest, public_key_b64=key) != []
        m.check_ledger()
    assert shas["devco"] != shas["outco"]
    # withdrawn from sale (as when the model's API is retired): what was bought stays downloadable
    assert (
        m.client.post(f"/api/v1/market/listings/{listing['id']}/withdraw", headers=m.h("acme")).status_code
        == 200
    )
    licences = m.client.get("/api/v1/licences", headers=m.h("devco")).json()
    again = m.client.get(f"/api/v1/licences/{licences[0]['id']}/files/tiny.gguf", headers=m.h("devco"))
    assert hashlib.sha256(again.content).hexdigest() == shas["devco"]
    assert _buy(m, "devco", listing, "after").status_code == 409
    for org in ("devco", "outco"):
        t = m.client.post("/api/v1/market/trace", content=files[org], headers=m.h("acme"))
        assert t.status_code == 200 and t.json()["buyer"] == org
    t = m.client.post("/api/v1/market/trace", content=files["devco"], headers=m.h("outco"))
    assert t.status_code == 404  # only the seller and the operator trace
    with m.db.session() as session:
        devco = ledger.wallet_balance(session, _org(m.db, "devco"))
        revenue = session.scalar(
            ledger.select(ledger.LedgerAccount.balance).where(
                ledger.LedgerAccount.code == ledger.revenue_code(_org(m.db, "acme"))
            )
        )
        share = session.scalar(
            ledger.select(ledger.LedgerAccount.balance).where(
                ledger.LedgerAccount.code == ledger.revenue_code(_org(m.db, "resell"))
            )
        )
        fee = session.scalar(
            ledger.select(ledger.LedgerAccount.balance).where(ledger.LedgerAccount.code == ledger.FEES_CODE)
        )
    assert devco == 10 * EUR
    assert (revenue, share, fee) == (2 * 8_500_000, 2 * 500_000, 2 * EUR)  # 10 % fee, 5 % share
    m.check_ledger()


def test_bad_purchases_charge_nothing(market: Market) -> None:
    m = market
    listing = _list(m, "acme")
    assert _buy(m, "devco", listing, "a").status_code == 402  # no credit
    _grant(m, "devco", 20 * EUR, "g")
    r = _buy(m, "devco", listing, "b", price=EUR)
    assert r.status_code == 409 and "price" in r.json()["error"]["message"]  # stale price
    r = m.client.post(
        "/api/v1/market/listings",
        json={"offer": m.sale_offer, "kind": "sale", "title": "x", "price": 1, "licence": "x"},
        headers=m.h("devco"),
    )
    assert r.status_code == 403  # another org's offer
    assert m.client.get("/api/v1/licences/lic_nope/files/tiny.gguf", headers=m.h("devco")).status_code == 404
    assert m.client.get("/api/v1/credits", headers=m.h("devco")).json()["balance"] == 20 * EUR
    m.check_ledger()


def test_listing_needs_ownership_or_the_owners_agreement(market: Market, db: Database) -> None:
    m = market
    devco = Principal(
        org_id=_org(db, "devco"),
        org_slug="devco",
        key_id=None,
        user_id="u",
        role=Role.admin,
        scopes=frozenset(Scope),
    )
    _agree(db, ["software_sale"])
    r = m.client.post(
        "/api/v1/offers", json={"model": "acme/tiny@1", "channel": "software_sale"}, headers=m.h("devco")
    )
    assert r.status_code == 201, r.text
    offer = r.json()["id"]
    body = {"offer": offer, "kind": "sale", "title": "Resold", "price": EUR, "licence": "x"}
    r = m.client.post("/api/v1/market/listings", json=body, headers=m.h("devco"))
    assert r.status_code == 403 and "marketplace" in r.json()["error"]["message"]
    _agree(db, ["marketplace"])
    assert m.client.post("/api/v1/market/listings", json=body, headers=m.h("devco")).status_code == 201
    for kind in ("white_label", "kit", "maintenance"):
        _list(m, "acme", kind=kind, title=f"tiny {kind}")
    rows = m.client.get("/api/v1/market/listings", params={"kind": "kit"}, headers=m.h("outco")).json()
    assert [r["kind"] for r in rows] == ["kit"]
    assert devco.org_slug == "devco"
    m.check_ledger()


def _agree(db: Database, channels: list[str]) -> None:
    from valuechain.registry.claims import create_agreement
    from valuechain.registry.schemas import AgreementCreate

    acme = system_principal(org_id=_org(db, "acme"), org_slug="acme")
    with db.unit_of_work() as session:
        create_agreement(
            session, AgreementCreate(agent="devco", model="acme/tiny", channels=channels), principal=acme
        )  # type: ignore[arg-type]


def test_hire_of_the_api_expires_on_v1_and_stops_downloads(market: Market) -> None:
    m = market
    _grant(m, "devco", 20 * EUR, "g")
    listing = _list(m, "acme", offer=m.api_offer, kind="hire", period_seconds=2, price=EUR, title="tiny hire")
    lic = _buy(m, "devco", listing, "h").json()
    devkey = make_key(m.db, "devco", "member")
    r = m.client.post(
        "/v1/chat/completions",
        json={"model": "acme/tiny", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {devkey}"},
    )
    assert r.status_code != 403, r.text
    time.sleep(4.5)  # the hire lapses; the gateway's access cache holds for 2 s at most
    r = m.client.post(
        "/v1/chat/completions",
        json={"model": "acme/tiny", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {devkey}"},
    )
    assert r.status_code == 403 and lic["id"] in r.json()["error"]["message"]
    renewed = m.client.post(
        f"/api/v1/licences/{lic['id']}/renew", headers=m.h("devco", **{"Idempotency-Key": "r1"})
    )
    assert renewed.status_code == 200 and renewed.json()["is_active"]
    assert (
        m.client.post(f"/api/v1/licences/{lic['id']}/cancel", headers=m.h("devco")).json()["status"]
        == "cancelled"
    )
    m.check_ledger()


def test_hired_weights_stop_downloading_at_expiry(market: Market) -> None:
    m = market
    _grant(m, "devco", 20 * EUR, "g")
    listing = _list(m, "acme", kind="hire", period_seconds=1, price=EUR, title="weights hire")
    lic = _buy(m, "devco", listing, "h").json()
    assert (
        m.client.get(f"/api/v1/licences/{lic['id']}/files/README.md", headers=m.h("devco")).status_code == 200
    )
    time.sleep(1.2)
    r = m.client.get(f"/api/v1/licences/{lic['id']}/files/tiny.gguf", headers=m.h("devco"))
    assert r.status_code == 403 and lic["id"] in r.json()["error"]["message"]
    m.check_ledger()


def test_hundred_concurrent_purchases_of_a_limited_listing(
    market: Market, db: Database, settings: Settings
) -> None:
    m = market
    listing = _list(m, "acme", stock=7, price=EUR)
    buyers = [f"b{i:02d}" for i in range(20)]
    for slug in buyers:
        make_org(db, slug)
        _grant(m, slug, 10 * EUR, f"g-{slug}")
    principals = {
        s: Principal(
            org_id=_org(db, s), org_slug=s, key_id=None, user_id="u", role=Role.admin, scopes=frozenset(Scope)
        )
        for s in buyers
    }

    def attempt(i: int) -> str:
        slug = buyers[i % len(buyers)]
        try:
            with db.unit_of_work() as session:
                purchases.buy(
                    session,
                    listing["id"],
                    principal=principals[slug],
                    fee_bps=1000,
                    idempotency_key=f"k{i // 40}",
                )
            return "ok"
        except ConflictError:
            return "conflict"
        except Exception as exc:  # noqa: BLE001 - a database serialisation failure is a refusal too
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(100)))
    with db.session() as session:
        sold = session.scalar(
            ledger.select(listings.Listing.sold).where(listings.Listing.id == listing["id"])
        )
        tx = session.scalar(
            ledger.select(ledger.func.count())
            .select_from(ledger.LedgerTransaction)
            .where(ledger.LedgerTransaction.kind == "purchase")
        )
        spent = sum(10 * EUR - ledger.wallet_balance(session, principals[s].org_id) for s in buyers)
        assert ledger.verify(session).problems == []
    assert sold == 7 and tx == 7 and spent == 7 * EUR, results


def test_invoices_are_numbered_per_seller_and_immutable(market: Market) -> None:
    m = market
    _grant(m, "devco", 50 * EUR, "g")
    listing = _list(m, "acme")
    first = _buy(m, "devco", listing, "i1").json()
    second = _buy(m, "devco", listing, "i2").json()
    a = m.client.get(
        f"/api/v1/charges/{first['charge']}/invoice", params={"format": "csv"}, headers=m.h("devco")
    )
    b = m.client.get(
        f"/api/v1/charges/{second['charge']}/invoice", params={"format": "csv"}, headers=m.h("devco")
    )
    assert a.status_code == 200, a.text
    numbers = [a.headers["X-Invoice-Number"], b.headers["X-Invoice-Number"]]
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2]
    again = m.client.get(
        f"/api/v1/charges/{first['charge']}/invoice", params={"format": "csv"}, headers=m.h("devco")
    )
    assert again.content == a.content
    pdf = m.client.get(
        f"/api/v1/charges/{first['charge']}/invoice", params={"format": "pdf"}, headers=m.h("devco")
    )
    import pypdf

    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "10.00 €" in text and numbers[0] in text
    xml = m.client.get(
        f"/api/v1/charges/{first['charge']}/invoice", params={"format": "xml"}, headers=m.h("devco")
    )
    assert xml.status_code == 200 and b"urn:cen.eu:en16931:2017" in xml.content
    assert m.client.get(f"/api/v1/charges/{first['charge']}/invoice", headers=m.h("outco")).status_code == 404
    m.check_ledger()


def test_subscriptions_renew_each_period_until_the_wallet_runs_dry(market: Market, db: Database) -> None:
    from datetime import timedelta

    from valuechain.core.clock import utcnow

    m = market
    _grant(m, "devco", 3 * EUR, "g")
    listing = _list(
        m, "acme", offer=m.api_offer, kind="subscription", period_seconds=60, price=EUR, title="sub"
    )
    devco = Principal(
        org_id=_org(db, "devco"),
        org_slug="devco",
        key_id=None,
        user_id="u",
        role=Role.admin,
        scopes=frozenset(Scope),
    )
    start = utcnow()
    with db.unit_of_work() as session:
        lic = purchases.buy(
            session,
            listing["id"],
            principal=devco,
            fee_bps=1000,
            idempotency_key="s",
            auto_renew=True,
            now=start,
        )
    renewed = []
    for minutes in (1, 1, 2, 3, 4):  # the same period asked twice renews once; the fourth period finds 0 EUR
        with db.unit_of_work() as session:
            renewed.append(
                purchases.renew_due(session, fee_bps=1000, now=start + timedelta(minutes=minutes, seconds=1))
            )
    assert renewed == [1, 0, 1, 0, 0]
    with db.session() as session:
        assert ledger.wallet_balance(session, devco.org_id) == 0
        [record] = purchases.list_licences(session, principal=devco, now=start + timedelta(minutes=5))
        assert record.id == lic.id and not record.is_active
    m.check_ledger()


def test_monthly_invoice_is_issued_once_the_month_is_over_and_never_changes(
    market: Market, db: Database
) -> None:
    from datetime import UTC, datetime

    from valuechain.market import invoices

    m = market
    _grant(m, "outco", 50 * EUR, "g")
    listing = _list(m, "acme")
    outco = Principal(
        org_id=_org(db, "outco"),
        org_slug="outco",
        key_id=None,
        user_id="u",
        role=Role.admin,
        scopes=frozenset(Scope),
    )
    with db.unit_of_work() as session:
        for day, key in ((3, "a"), (17, "b")):
            purchases.buy(
                session, listing["id"], principal=outco, fee_bps=1000, idempotency_key=key,
                now=datetime(2026, 1, day, tzinfo=UTC),
            )  # fmt: skip
    first = m.client.get("/api/v1/invoices/outco/2026-01", params={"format": "csv"}, headers=m.h("outco"))
    assert first.status_code == 200, first.text
    assert first.text.count("purchase: Tiny weights") == 2 and "20.00" in first.text
    with db.unit_of_work() as session:  # a late charge dated in January does not change the issued invoice
        purchases.buy(
            session, listing["id"], principal=outco, fee_bps=1000, idempotency_key="c",
            now=datetime(2026, 1, 30, tzinfo=UTC),
        )  # fmt: skip
    again = m.client.get("/api/v1/invoices/outco/2026-01", params={"format": "csv"}, headers=m.h("outco"))
    assert again.content == first.content
    # the EU seller's invoice has its EN 16931 XML; a month not yet over, or another org, gets none
    with db.session() as session:
        [issued] = invoices.issue_monthly(session, "outco", "2026-01", principal=outco)
    assert issued.seller_in_eu and b"<rsm:CrossIndustryInvoice" in invoices.render_xml(issued)
    assert m.client.get("/api/v1/invoices/outco/2999-01", headers=m.h("outco")).status_code == 409
    assert m.client.get("/api/v1/invoices/outco/2026-01", headers=m.h("devco")).status_code == 404
    assert m.client.get("/api/v1/invoices/outco/2026-13", headers=m.h("outco")).status_code == 422
    m.check_ledger()


def test_a_payment_provider_pays_in_once_per_reference(market: Market, db: Database) -> None:
    from valuechain.market.credits import Payment, pay_in

    class Bank:  # the smallest adapter: it confirms what its own records say was paid
        name = "bank"

        def confirm(self, reference: str) -> Payment:
            return Payment(org_id=_org(db, "devco"), amount=7 * EUR, currency="EUR", reference=reference)

    with db.unit_of_work() as session:
        assert pay_in(session, Bank(), "SEPA-1") is not None
        assert pay_in(session, Bank(), "SEPA-1") is None
    assert market.client.get("/api/v1/credits", headers=market.h("devco")).json()["balance"] == 7 * EUR
    market.check_ledger()
