"""The marketplace in the console (issue 11): the catalogue filters, buying through the form (a changed
price refused, a resubmitted form charged once), licences with renew and cancel, invoices; the ledger
balances after every step and another organisation sees none of it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.console.conftest import World, _as, csrf_of, sign_in
from valuechain.core.db import Database
from valuechain.market import credits, ledger, listings

EUR = 1_000_000


def _ledger_ok(db: Database) -> None:
    with db.session() as session:
        assert ledger.verify(session).problems == []


def test_buy_a_hire_in_the_console(client: TestClient, world: World, db: Database) -> None:
    from valuechain.accounts.principal import system_principal

    with db.unit_of_work() as session:
        credits.grant(session, "dev", 5 * EUR, principal=system_principal(), idempotency_key="c1")
        data = listings.ListingCreate(
            offer=world.offer_id,
            kind="hire",
            title="Open API, one hour",
            price=2 * EUR,
            period_seconds=3600,
            licence="apache-2.0",
        )
        listing = listings.create_listing(session, data, principal=_as(db, "prov"), fee_bps=1000)
    sign_in(client, "dev@example.com")
    page = client.get("/market", params={"kind": "hire"})
    assert page.status_code == 200 and listing.id in page.text and "5.00 EUR" in page.text
    assert listing.id not in client.get("/market", params={"kind": "sale"}).text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    form = {"csrf": csrf_of(page.text), "price": str(EUR), "key": key.group(1)}
    stale = client.post(f"/market/listings/{listing.id}/buy", data=form, follow_redirects=False)
    assert stale.status_code == 409 and "price" in stale.text
    form["price"] = str(2 * EUR)
    for _ in range(2):  # the same form sent twice buys once
        done = client.post(f"/market/listings/{listing.id}/buy", data=form, follow_redirects=False)
        assert done.status_code == 303, done.text
    _ledger_ok(db)
    page = client.get("/market")
    assert "3.00 EUR" in page.text and "Open API, one hour" in page.text
    licence = re.search(r'data-licence="(lic_[^"]+)"', page.text)
    assert licence
    csrf = csrf_of(page.text)
    assert (
        client.post(
            f"/market/licences/{licence.group(1)}/renew", data={"csrf": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/market/licences/{licence.group(1)}/cancel", data={"csrf": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    _ledger_ok(db)
    page = client.get("/market")
    assert "1.00 EUR" in page.text and "cancelled" in page.text
    charge = re.search(r"/market/charges/(chg_[^/]+)/invoice\?format=pdf", page.text)
    assert charge
    pdf = client.get(f"/market/charges/{charge.group(1)}/invoice", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.post("/logout", data={"csrf": csrf})
    sign_in(client, "out@example.com")
    assert client.get(f"/market/charges/{charge.group(1)}/invoice").status_code == 404
    assert licence.group(1) not in client.get("/market").text
