"""The seller's side of the marketplace in the console (issue 11): a listing created through the form,
bad input and another organisation's offer refused with nothing listed, a purchase by another organisation
(a stale price refused, nothing charged), the licence sold, withdrawal; the ledger balances after each
money flow and the buyer's ledger lines are on its pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.console.conftest import World, csrf_of, sign_in
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.market import credits, ledger, listings

EUR = 1_000_000


def _ledger_ok(db: Database) -> None:
    with db.session() as session:
        assert ledger.verify(session).problems == []


def _listings(db: Database) -> list[listings.ListingRecord]:
    with db.session() as session:
        return listings.search_listings(
            session, principal=system_principal(), fee_bps=0, include_withdrawn=True
        )


def _balance(db: Database, slug: str) -> int:
    from valuechain.accounts.directory import org_id_for_slug

    with db.session() as session:
        return ledger.wallet_balance(session, org_id_for_slug(session, slug) or "")


def _form(world: World, csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "offer": world.offer_id,
        "kind": "hire",
        "title": "Open API, one hour",
        "price": "2.50",
        "currency": "EUR",
        "period": "1",
        "unit": "hours",
        "stock": "2",
        "licence": "apache-2.0",
        "terms": "Use it well.",
    }
    return form | changes


def test_seller_lists_buyer_buys_seller_withdraws(client: TestClient, world: World, db: Database) -> None:
    sign_in(client, "prov@example.com")
    page = client.get("/market/sell")
    assert page.status_code == 200 and f'value="{world.offer_id}"' in page.text
    csrf = csrf_of(page.text)
    refused = [
        (_form(world, ""), 403, "CSRF"),
        (_form(world, csrf, period=""), 422, "period_seconds"),  # a hire needs a period
        (_form(world, csrf, price="two euros"), 422, "price"),
        (_form(world, csrf, price="-1"), 422, "price"),
        (_form(world, csrf, kind="lease"), 422, "kind"),
        (_form(world, csrf, unit="fortnights"), 422, "unit"),
        (_form(world, csrf, stock="0"), 422, "stock"),
        (_form(world, csrf, offer="off_missing"), 404, "not found"),
    ]
    for form, status, words in refused:
        answer = client.post("/market/sell", data=form, follow_redirects=False)
        assert answer.status_code == status and words in answer.text, (form, answer.text)
        assert "text/html" in answer.headers["content-type"]  # an error page, not the API's envelope
    assert _listings(db) == []
    done = client.post("/market/sell", data=_form(world, csrf), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/market/sell#listings"
    [listing] = _listings(db)
    assert (listing.kind, listing.price, listing.period_seconds, listing.stock) == (
        "hire",
        2_500_000,
        3600,
        2,
    )
    assert (listing.seller, listing.licence, listing.terms) == ("prov", "apache-2.0", "Use it well.")
    mine = client.get("/market/sell", params={"format": "json", "table": "listings"}).json()
    assert [(x["id"], x["status"], x["price"]) for x in mine] == [(listing.id, "active", 2_500_000)]
    client.post("/logout", data={"csrf": csrf})

    # another organisation can neither list prov's offer nor withdraw prov's listing
    sign_in(client, "dev@example.com")
    page = client.get("/market/sell")
    assert world.offer_id not in page.text  # only the organisation's own offers are offered
    csrf = csrf_of(page.text)
    answer = client.post("/market/sell", data=_form(world, csrf), follow_redirects=False)
    assert answer.status_code == 403 and "another organisation" in answer.text
    answer = client.post(
        f"/market/listings/{listing.id}/withdraw", data={"csrf": csrf}, follow_redirects=False
    )
    assert answer.status_code in (403, 404)
    assert [(x.id, x.status) for x in _listings(db)] == [(listing.id, "active")]

    # the buyer: a stale price changes nothing; the shown price buys once; the ledger balances
    with db.unit_of_work() as session:
        credits.grant(session, "dev", 5 * EUR, principal=system_principal(), idempotency_key="sell-1")
    page = client.get("/market", params={"kind": "hire"})
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key and listing.id in page.text
    form = {"csrf": csrf, "price": str(EUR), "key": key.group(1)}
    stale = client.post(f"/market/listings/{listing.id}/buy", data=form, follow_redirects=False)
    assert stale.status_code == 409 and "price" in stale.text
    assert _balance(db, "dev") == 5 * EUR
    _ledger_ok(db)
    form["price"] = str(listing.price)
    assert (
        client.post(f"/market/listings/{listing.id}/buy", data=form, follow_redirects=False).status_code
        == 303
    )
    assert _balance(db, "dev") == 5 * EUR - 2_500_000
    _ledger_ok(db)
    lines = client.get("/market", params={"format": "json", "table": "ledger"}).json()
    assert [x["amount"] for x in lines] == [-2_500_000, 5 * EUR]  # newest first
    assert "2.50 EUR" in client.get("/org").text  # the whole ledger on the organisation page
    client.post("/logout", data={"csrf": csrf})

    # the seller sees the licence sold, then withdraws: buyers no longer find the listing
    sign_in(client, "prov@example.com")
    sold = client.get("/market/sell", params={"format": "json", "table": "sold"}).json()
    assert [(x["listing"], x["buyer"], x["kind"]) for x in sold] == [(listing.id, "dev", "hire")]
    csrf = csrf_of(client.get("/market/sell").text)
    assert (
        client.post(f"/market/listings/{listing.id}/withdraw", data={}, follow_redirects=False).status_code
        == 403
    )
    answer = client.post(
        f"/market/listings/{listing.id}/withdraw", data={"csrf": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert [x.status for x in _listings(db)] == ["withdrawn"]
    assert "withdrawn" in client.get("/market/sell").text
    assert listing.id not in client.get("/market").text
    _ledger_ok(db)


def test_a_viewer_cannot_list(client: TestClient, world: World, db: Database) -> None:
    sign_in(client, "both@example.com")  # admin of dev, viewer of prov
    page = client.get("/org")
    csrf = csrf_of(page.text)
    switched = client.post("/org/switch", data={"csrf": csrf, "org": "prov"}, follow_redirects=False)
    assert switched.status_code == 303
    csrf = csrf_of(client.get("/market/sell").text)
    answer = client.post("/market/sell", data=_form(world, csrf), follow_redirects=False)
    assert answer.status_code == 403
    assert _listings(db) == []
