"""White label in the console (issue 11, part 5): the provider grants and revokes a reseller agreement,
the reseller sees it, lists the model under its brand (a markup outside the agreement or a forbidden name
refused, nothing created), entitles a customer with a key shown once (the cap refused beyond), brands its
host name; another organisation can touch none of it, and the ledger balances throughout."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.conftest import ask_for_offer, auth, make_org
from tests.console.conftest import World, _as, csrf_of, sign_in
from valuechain.accounts.principal import system_principal
from valuechain.channels import whitelabel
from valuechain.core.db import Database
from valuechain.market import ledger
from valuechain.registry.schemas import ModelCreate
from valuechain.registry.service import create_model


def _ledger_ok(db: Database) -> None:
    with db.session() as session:
        assert ledger.verify(session).problems == []


def _agreements(db: Database) -> list[whitelabel.ResellerRecord]:
    with db.session() as session:
        return whitelabel.list_resellers(session, principal=system_principal())


def _white_labels(db: Database, slug: str) -> list[whitelabel.WhiteLabelRecord]:
    with db.session() as session:
        return whitelabel.list_white_labels(session, principal=_as(db, slug))


def _public_actor(db: Database, slug: str) -> None:
    """An organisation others may name (issue 9: one with a public model)."""
    with db.unit_of_work() as session:
        create_model(session, ModelCreate(name="house", visibility="public"), principal=_as(db, slug))  # type: ignore[call-arg]


GRANT = {
    "reseller": "dev",
    "model": "prov/open",
    "wholesale_input": "1.00",
    "wholesale_output": "2",
    "max_markup_pct": "50",
    "max_customers": "1",
    "forbidden_terms": "openai, acme",
}


def test_reseller_agreement_white_label_and_customer_key(
    client: TestClient, world: World, db: Database
) -> None:
    _public_actor(db, "dev")
    make_org(db, "shop")
    expires = (date.today() + timedelta(days=365)).isoformat()

    # the provider grants (CSRF, bad prices and a past expiry refused first, nothing granted)
    sign_in(client, "prov@example.com")
    page = client.get("/resellers")
    assert page.status_code == 200 and '<option value="prov/open">' in page.text
    csrf = csrf_of(page.text)
    for form, status, words in (
        (GRANT, 403, "CSRF"),
        (GRANT | {"csrf": csrf, "wholesale_input": "1.0000001"}, 422, "wholesale input"),
        (GRANT | {"csrf": csrf, "max_markup_pct": "-5"}, 422, "max_markup_pct"),
        (GRANT | {"csrf": csrf, "expires": "2020-01-01"}, 422, "past"),
        (GRANT | {"csrf": csrf, "model": "dev/secret"}, 404, "not found"),
        (GRANT | {"csrf": csrf, "reseller": "nobody"}, 404, "not found"),
    ):
        answer = client.post("/resellers", data=form, follow_redirects=False)
        assert answer.status_code == status and words in answer.text, (form, answer.text)
    assert _agreements(db) == []
    answer = client.post(
        "/resellers", data=GRANT | {"csrf": csrf, "expires": expires}, follow_redirects=False
    )
    assert answer.status_code == 303
    [agreement] = _agreements(db)
    assert (agreement.provider, agreement.reseller, agreement.model) == ("prov", "dev", "prov/open")
    assert (agreement.wholesale_input_per_mtok, agreement.wholesale_output_per_mtok) == (1_000_000, 2_000_000)
    assert agreement.brand_rules["forbidden_terms"] == ["openai", "acme"] and agreement.expires_at is not None
    granted = client.get("/resellers", params={"format": "json", "table": "granted"}).json()
    assert [(g["agreement"], g["reseller"], g["revoked"]) for g in granted] == [
        (agreement.agreement_id, "dev", False)
    ]
    client.post("/logout", data={"csrf": csrf})

    # the reseller: sees it; a markup outside it, a forbidden word, the upstream name are refused
    sign_in(client, "dev@example.com")
    page = client.get("/resellers")
    assert agreement.agreement_id in page.text and 'id="create-white-label"' in page.text
    assert f"/resellers/{agreement.agreement_id}/revoke" not in page.text  # only the provider revokes
    csrf = csrf_of(page.text)
    offer = {"csrf": csrf, "agreement": agreement.agreement_id, "model_name": "nimbus-chat", "brand": "Nimbus AI",
             "markup_pct": "30"}  # fmt: skip
    for form, status, words in (
        (offer | {"markup_pct": "80"}, 422, "outside the agreement"),
        (offer | {"brand": "Acme Nimbus"}, 422, "acme"),
        (offer | {"model_name": "open-chat"}, 422, "upstream"),
        (offer | {"model_name": "bad name!"}, 422, "model_name"),
        (offer | {"agreement": "agr_missing"}, 404, "not found"),
    ):
        answer = client.post("/white-label", data=form, follow_redirects=False)
        assert answer.status_code == status and words in answer.text, (form, answer.text)
    assert _white_labels(db, "dev") == []
    assert client.post("/white-label", data=offer, follow_redirects=False).status_code == 303
    [resold] = _white_labels(db, "dev")
    assert (resold.model_name, resold.brand, resold.upstream) == ("nimbus-chat", "Nimbus AI", "prov/open@1")
    assert (resold.input_per_mtok, resold.output_per_mtok) == (1_300_000, 2_600_000)
    assert "1.30 EUR" in client.get("/resellers").text

    # a customer with a key: the secret on that answer only; the cap refuses a second customer
    add = f"/white-label/{resold.offer_id}/customers"
    # consent: `out` never asked for the offer, so its wallet is not the reseller's to bill
    answer = client.post(
        add, data={"csrf": csrf, "customer": "out", "issue_key": "true"}, follow_redirects=False
    )
    assert answer.status_code == 409 and "has not requested" in answer.text, answer.text
    assert f"valuechain access request {resold.offer_id} --as out" in answer.text
    assert 'id="new-secret"' not in answer.text and _white_labels(db, "dev")[0].customers == ()
    ask_for_offer(db, resold.offer_id, "out")
    ask_for_offer(db, resold.offer_id, "shop")  # it asked too: the cap is what refuses it
    answer = client.post(
        add, data={"csrf": csrf, "customer": "out", "issue_key": "true"}, follow_redirects=False
    )
    assert answer.status_code == 200
    secret = re.search(r'id="new-secret">([^<]+)<', answer.text)
    assert secret and secret.group(1).startswith("vc_")
    assert secret.group(1) not in client.get("/resellers").text
    beyond = client.post(add, data={"csrf": csrf, "customer": "shop"}, follow_redirects=False)
    assert beyond.status_code == 409 and "caps customers at 1" in beyond.text
    [resold] = _white_labels(db, "dev")
    assert resold.customers == ("out",)
    models = client.get("/v1/models", headers=auth(secret.group(1)))
    assert models.status_code == 200 and "nimbus-chat" in [m["id"] for m in models.json()["data"]]
    _ledger_ok(db)

    # the brand of the reseller's host name
    brand = {"csrf": csrf, "host": "ai.nimbus.example", "display_name": "Nimbus AI", "accent": "#112233"}
    assert client.post("/brand", data=brand | {"accent": "red"}, follow_redirects=False).status_code == 422
    assert client.post("/brand", data=brand, follow_redirects=False).status_code == 303
    assert 'id="current-brand">Nimbus AI<' in client.get("/resellers").text
    assert (
        "<title>Catalogue · Nimbus AI</title>" in client.get("/", headers={"host": "ai.nimbus.example"}).text
    )
    client.post("/logout", data={"csrf": csrf})

    # another organisation: no customers on dev's offer, no revocation of prov's agreement, not its host
    sign_in(client, "out@example.com")
    csrf = csrf_of(client.get("/resellers").text)
    assert client.post(add, data={"csrf": csrf, "customer": "out"}, follow_redirects=False).status_code == 404
    revoke = f"/resellers/{agreement.agreement_id}/revoke"
    assert client.post(revoke, data={"csrf": csrf}, follow_redirects=False).status_code == 404
    taken = client.post("/brand", data=brand | {"csrf": csrf, "display_name": "Out"}, follow_redirects=False)
    assert taken.status_code == 409
    client.post("/logout", data={"csrf": csrf})

    # the provider revokes: the reseller can list nothing more under it
    sign_in(client, "prov@example.com")
    csrf = csrf_of(client.get("/resellers").text)
    assert client.post(revoke, data={}, follow_redirects=False).status_code == 403
    assert client.post(revoke, data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert _agreements(db)[0].revoked
    assert client.post(revoke, data={"csrf": csrf}, follow_redirects=False).status_code == 409
    client.post("/logout", data={"csrf": csrf})
    sign_in(client, "dev@example.com")
    page = client.get("/resellers")
    assert 'id="create-white-label"' not in page.text and "revoked" in page.text
    again = client.post("/white-label", data=offer | {"csrf": csrf_of(page.text), "model_name": "nimbus-2"},
                        follow_redirects=False)  # fmt: skip
    assert again.status_code == 403 and "revoked" in again.text
    assert len(_white_labels(db, "dev")) == 1
    _ledger_ok(db)
