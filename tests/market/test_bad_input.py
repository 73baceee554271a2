"""Bad input to the commercial channels (issue 11): buying without credit, at a stale price, twice at once,
under an expired or revoked agreement, a markup outside the agreement, a kit of an offer the caller cannot
see. Each answers a clear 4xx in its surface's shape (the `/api/v1` envelope, the OpenAI error object on
`/v1`, an HTML page in the console) and charges nothing: every balance, transaction, charge, licence, sale
and metered request is as before, and the ledger balances. The CLI's cases are in
tests/cli/test_bad_input_cli.py."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.channels.test_lifecycle import owner_of
from tests.conftest import ask_for_offer, auth, make_key, make_org
from tests.console.conftest import PASSWORD, csrf_of, login_csrf_of
from tests.gateway.conftest import MODEL, World, _org_id
from tests.ledger import MoneySnapshot, assert_ledger_balances, money_snapshot
from valuechain.accounts import sessions
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.channels import whitelabel
from valuechain.market import credits, ledger, listings, purchases
from valuechain.registry.claims import create_agreement, revoke_agreement
from valuechain.registry.schemas import AgreementCreate, ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version

EUR = 1_000_000
CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@dataclass
class Shop:
    """acme's hire and sale of acme/tiny; resell's hire of it under a marketplace agreement acme revoked
    (``buyco`` bought one before); resell's white-label offer under a live agreement (``shopco`` its
    customer); a private offer of acme; ``buyco`` holds 5 EUR and one hire licence, ``broke`` nothing."""

    world: World
    keys: dict[str, str]
    hire: listings.ListingRecord
    sale: listings.ListingRecord
    resale: listings.ListingRecord
    resale_licence: str
    live_agreement: str
    white_label: str
    hidden_offer: str

    def http(self) -> httpx.AsyncClient:
        return self.world.http()


def _listing(world: World, seller: str, offer: str, **changes: object) -> listings.ListingRecord:
    data = {"offer": offer, "kind": "hire", "title": "tiny, one hour", "price": EUR, "period_seconds": 3600,
            "licence": "proprietary"} | changes  # fmt: skip
    with world.db.unit_of_work() as session:
        return listings.create_listing(
            session,
            listings.ListingCreate.model_validate(data),
            principal=owner_of(world, seller),
            fee_bps=1000,
        )


def public_actor(world: World, slug: str) -> None:
    """A new organisation with a public model, so that others may name it (issue 9)."""
    make_org(world.db, slug)
    with world.db.unit_of_work() as session:
        create_model(session, ModelCreate(name="house", visibility="public"), principal=owner_of(world, slug))


def reseller_grant(world: World, **changes: object) -> str:
    data = {"reseller": "resell", "model": MODEL, "wholesale_input_per_mtok": 1_000_000,
            "wholesale_output_per_mtok": 2_000_000, "max_markup_pct": 50, "max_customers": 5} | changes  # fmt: skip
    with world.db.unit_of_work() as session:
        return whitelabel.grant_reseller(
            session, whitelabel.ResellerGrant.model_validate(data), principal=owner_of(world, "acme")
        ).agreement_id


def white_label_with_customer(world: World, agreement: str, name: str, customer: str) -> tuple[str, str]:
    """resell's white-label offer ``name`` under ``agreement``, ``customer`` (which asked for it) entitled
    with 1 EUR and a key."""
    data = whitelabel.WhiteLabelCreate(
        agreement=agreement, model_name=name, brand=f"Nimbus ({name})", markup_pct=50
    )
    with world.db.unit_of_work() as session:
        offer = whitelabel.create_white_label(
            session, data, principal=owner_of(world, "resell"), fee_bps=1000
        )
    ask_for_offer(world.db, offer.offer_id, customer)  # the customer's consent (issue 11)
    with world.db.unit_of_work() as session:
        added = whitelabel.add_customer(
            session, offer.offer_id, customer, principal=owner_of(world, "resell"), issue_key=True
        )
        ledger.top_up(session, org_id=_org_id(world.db, customer), amount=EUR, idempotency_key=f"t:{name}")
    assert added.secret is not None
    return offer.offer_id, added.secret


@pytest.fixture
def shop(world: World) -> Shop:
    for slug in ("buyco", "broke", "resell", "shopco"):
        public_actor(world, slug)
    acme = owner_of(world, "acme")
    hire = _listing(world, "acme", world.offer_id)
    sale = _listing(world, "acme", world.offer_id, kind="sale", title="tiny, perpetual", period_seconds=None)
    with world.db.unit_of_work() as session:
        create_model(session, ModelCreate(name="secret"), principal=acme)
        create_version(session, "acme/secret", VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        hidden = create_offer(session, OfferCreate(model="acme/secret@1", channel="api"), principal=acme).id  # type: ignore[arg-type]
        agreement = create_agreement(
            session,
            AgreementCreate(agent="resell", model=MODEL, channels=["software_sale", "marketplace"]),  # type: ignore[list-item]
            principal=acme,
        ).id
    with world.db.unit_of_work() as session:
        weights = create_offer(
            session,
            OfferCreate(model=f"{MODEL}@1", channel="software_sale"),
            principal=owner_of(world, "resell"),
        ).id  # type: ignore[arg-type]
    resale = _listing(world, "resell", weights, title="tiny weights, resold, one hour")
    with world.db.unit_of_work() as session:
        credits.grant(session, "buyco", 5 * EUR, principal=system_principal(), idempotency_key="g-buyco")
    buyco = owner_of(world, "buyco")
    with world.db.unit_of_work() as session:
        purchases.buy(session, hire.id, principal=buyco, fee_bps=1000, idempotency_key="first")
        resale_licence = purchases.buy(
            session, resale.id, principal=buyco, fee_bps=1000, idempotency_key="resale"
        ).id
    with world.db.unit_of_work() as session:
        revoke_agreement(session, agreement, principal=acme)
    live = reseller_grant(world)
    offer, _ = white_label_with_customer(world, live, "nimbus-chat", "shopco")
    with world.db.unit_of_work() as session:
        for slug in ("buyco", "broke"):
            sessions.set_user(session, f"{slug}@example.com", slug, role=Role.admin, password=PASSWORD,
                              principal=system_principal())  # fmt: skip
    keys = {slug: make_key(world.db, slug, "admin") for slug in ("buyco", "broke", "resell")}
    return Shop(world, keys, hire, sale, resale, resale_licence, live, offer, hidden)


Call = Callable[[Shop, httpx.AsyncClient], Awaitable[httpx.Response]]


def _buy(who: str, listing: str, *, key: str | None = "k-new", price: int | None = None) -> Call:
    def call(s: Shop, http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        chosen = getattr(s, listing)
        headers = auth(s.keys[who]) | ({"Idempotency-Key": key} if key else {})
        body = {"price": chosen.price if price is None else price}
        return http.post(f"/api/v1/market/listings/{chosen.id}/buy", json=body, headers=headers)

    return call


def _renew_resale(s: Shop, http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    headers = auth(s.keys["buyco"]) | {"Idempotency-Key": "r-new"}
    return http.post(f"/api/v1/licences/{s.resale_licence}/renew", headers=headers)


def _white_label(markup: int) -> Call:
    def call(s: Shop, http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        body = {
            "agreement": s.live_agreement,
            "model_name": "nimbus-2",
            "brand": "Nimbus",
            "markup_pct": markup,
        }
        return http.post("/api/v1/white-label", json=body, headers=auth(s.keys["resell"]))

    return call


def _kit(s: Shop, http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    return http.get(f"/api/v1/offers/{s.hidden_offer}/kit", headers=auth(s.keys["buyco"]))


# case → (call, status, error code, what the message says)
REST_CASES: dict[str, tuple[Call, int, str, str]] = {
    "buy without credit": (_buy("broke", "hire"), 402, "insufficient_credit", "credits grant"),
    "buy at a stale price": (_buy("buyco", "hire", price=EUR // 2), 409, "conflict", "the price of listing"),
    "buy without an idempotency key": (_buy("buyco", "hire", key=None), 422, "validation_error", "Idempotency-Key"),
    "buy again with a key spent on another listing": (
        _buy("buyco", "sale", key="first"), 409, "conflict", "idempotency key already used"),
    "buy under a revoked agreement": (_buy("buyco", "resale"), 403, "forbidden", "revoked agreement"),
    "renew under a revoked agreement": (_renew_resale, 403, "forbidden", "revoked agreement"),
    "white label with a markup outside the agreement": (
        _white_label(51), 422, "validation_error", "outside the agreement, which allows at most 50%"),
    "kit of an offer the caller cannot see": (_kit, 404, "not_found", "not found"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REST_CASES))
async def test_rest_refuses_with_the_envelope_and_charges_nothing(shop: Shop, case: str) -> None:
    call, status, code, says = REST_CASES[case]
    before = money_snapshot(shop.world.db)
    async with shop.http() as http:
        r = await call(shop, http)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and says in error["message"] and isinstance(error["details"], list)
    assert money_snapshot(shop.world.db) == before
    assert assert_ledger_balances(shop.world.db).transactions > 0


async def test_kit_of_a_hidden_offer_answers_as_a_missing_one(shop: Shop) -> None:
    async with shop.http() as http:
        hidden = await _kit(shop, http)
        missing = await http.get("/api/v1/offers/off_missing/kit", headers=auth(shop.keys["buyco"]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"].replace(shop.hidden_offer, "X") == missing.json()["error"][
        "message"
    ].replace("off_missing", "X")  # no oracle


async def test_an_expired_agreement_charges_nothing_on_rest_and_v1(shop: Shop) -> None:
    world = shop.world
    public_actor(world, "custco")
    expires = datetime.now(UTC) + timedelta(seconds=2)
    expiring = reseller_grant(world, expires_at=expires.isoformat())
    offer, customer_key = white_label_with_customer(world, expiring, "nimbus-fleeting", "custco")
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
    world.gateway.admission.access.invalidate()  # (its cache would lapse within 2 s anyway)
    before = money_snapshot(world.db)
    resell = auth(shop.keys["resell"])
    async with shop.http() as http:
        body = {"agreement": expiring, "model_name": "nimbus-3", "brand": "Nimbus", "markup_pct": 10}
        created = await http.post("/api/v1/white-label", json=body, headers=resell)
        added = await http.post(
            f"/api/v1/white-label/{offer}/customers", json={"customer": "buyco"}, headers=resell
        )
        chat = await http.post(
            "/v1/chat/completions", json={"model": "nimbus-fleeting", **CHAT}, headers=auth(customer_key)
        )
    for r in (created, added):
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden" and "expired" in r.json()["error"]["message"]
    assert chat.status_code == 403, chat.text
    error = chat.json()["error"]  # the OpenAI error object
    assert {"message", "type", "param", "code"} <= set(error) and "expired" in error["message"]
    await world.gateway.admission.recorder.flush()
    assert money_snapshot(world.db) == before
    assert_ledger_balances(world.db)


async def test_a_revoked_white_label_agreement_stops_v1_and_charges_nothing(shop: Shop) -> None:
    world = shop.world
    public_actor(world, "custco")
    agreement = reseller_grant(world)
    _, customer_key = white_label_with_customer(world, agreement, "nimbus-revoked", "custco")
    with world.db.unit_of_work() as session:
        revoke_agreement(session, agreement, principal=owner_of(world, "acme"))
    world.gateway.admission.access.invalidate()
    before = money_snapshot(world.db)
    async with shop.http() as http:
        chat = await http.post(
            "/v1/chat/completions", json={"model": "nimbus-revoked", **CHAT}, headers=auth(customer_key)
        )
    await world.gateway.admission.recorder.flush()
    assert chat.status_code == 403 and "revoked" in chat.json()["error"]["message"], chat.text
    assert money_snapshot(world.db) == before
    assert_ledger_balances(world.db)


def test_the_same_purchase_twice_at_once_charges_once(shop: Shop) -> None:
    """Eight buyers' threads with one idempotency key, each in its own unit of work: one charge."""
    world, buyco = shop.world, owner_of(shop.world, "buyco")
    before = money_snapshot(world.db)
    gate = threading.Barrier(8)

    def attempt(_: int) -> str:
        gate.wait()
        with world.db.unit_of_work() as session:
            return purchases.buy(
                session, shop.hire.id, principal=buyco, fee_bps=1000, idempotency_key="at-once",
                expected_price=EUR,
            ).id  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        licences = list(pool.map(attempt, range(8)))
    assert len(set(licences)) == 1
    _charged_once(shop, before)


async def test_the_same_purchase_twice_at_once_over_rest_charges_once(shop: Shop) -> None:
    before = money_snapshot(shop.world.db)
    buy = _buy("buyco", "hire", key="at-once-rest")
    async with shop.http() as http:
        answers = await asyncio.gather(*(buy(shop, http) for _ in range(6)))
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    _charged_once(shop, before)


def _charged_once(shop: Shop, before: MoneySnapshot) -> None:
    after = money_snapshot(shop.world.db)
    buyer = ledger.wallet_code(_org_id(shop.world.db, "buyco"))
    assert after.balances[buyer] == before.balances[buyer] - EUR
    assert after.sold[shop.hire.id] == before.sold[shop.hire.id] + 1
    grew = {table: after.counts[table] - before.counts[table] for table in after.counts}
    assert grew["market_charges"] == grew["market_licences"] == grew["ledger_transactions"] == 1, grew
    assert_ledger_balances(shop.world.db)


async def _sign_in(http: httpx.AsyncClient, email: str) -> str:
    """Sign in to the console; the CSRF token of the market page."""
    page = await http.get("/login")
    r = await http.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": login_csrf_of(page.text), "next": "/market"},
    )
    assert r.status_code == 303, r.text
    return csrf_of((await http.get("/market")).text)


def _form(listing: str, price: int | None = None) -> Callable[[Shop, str], tuple[str, dict[str, str]]]:
    def make(s: Shop, csrf: str) -> tuple[str, dict[str, str]]:
        chosen = getattr(s, listing)
        form = {"csrf": csrf, "price": str(chosen.price if price is None else price), "key": "form-key-1"}
        return f"/market/listings/{chosen.id}/buy", form

    return make


def _renew_form(s: Shop, csrf: str) -> tuple[str, dict[str, str]]:
    return f"/market/licences/{s.resale_licence}/renew", {"csrf": csrf}


# case → (who, form, status, what the page says); the console's forms are the market's buy and renew
CONSOLE_CASES = {
    "buy without credit": ("broke", _form("hire"), 402, "credits grant"),
    "buy at a stale price": ("buyco", _form("hire", EUR // 2), 409, "the price of listing"),
    "buy under a revoked agreement": ("buyco", _form("resale"), 403, "revoked agreement"),
    "renew under a revoked agreement": ("buyco", _renew_form, 403, "revoked agreement"),
}


@pytest.mark.parametrize("case", list(CONSOLE_CASES))
async def test_console_refuses_with_an_error_page_and_charges_nothing(shop: Shop, case: str) -> None:
    who, form, status, says = CONSOLE_CASES[case]
    before = money_snapshot(shop.world.db)
    async with shop.http() as http:
        csrf = await _sign_in(http, f"{who}@example.com")
        path, data = form(shop, csrf)
        r = await http.post(path, data=data)
    assert r.status_code == status and r.headers["content-type"].startswith("text/html"), r.text
    assert says in re.sub(r"\s+", " ", r.text.replace("&#39;", "'"))
    assert money_snapshot(shop.world.db) == before
    assert_ledger_balances(shop.world.db)


async def test_console_kit_of_a_hidden_offer_is_a_404_page(shop: Shop) -> None:
    before = money_snapshot(shop.world.db)
    async with shop.http() as http:
        await _sign_in(http, "buyco@example.com")
        r = await http.get(f"/offers/{shop.hidden_offer}/kit.zip")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert money_snapshot(shop.world.db) == before
