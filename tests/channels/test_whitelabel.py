"""White label (issue 11, part 5): reseller agreement, branded offer, customers, split ledger lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import openai
import pytest
from sqlalchemy import select

from tests.channels.test_lifecycle import owner_of
from tests.conftest import ask_for_offer, auth, make_key, make_org
from tests.gateway.conftest import MODEL, World, _org_id
from valuechain.channels import whitelabel
from valuechain.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from valuechain.market import ledger
from valuechain.market.models import LedgerAccount, LedgerEntry
from valuechain.registry.schemas import ModelCreate
from valuechain.registry.service import create_model

CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def _grant(world: World, **changes: object) -> str:
    data = {
        "reseller": "resell",
        "model": MODEL,
        "wholesale_input_per_mtok": 1_000_000,
        "wholesale_output_per_mtok": 2_000_000,
        "max_markup_pct": 50,
        "max_customers": 1,
        "brand_rules": {"forbidden_terms": ["openai"]},
    } | changes
    with world.db.unit_of_work() as session:
        grant = whitelabel.grant_reseller(
            session, whitelabel.ResellerGrant.model_validate(data), principal=owner_of(world, "acme")
        )
    return grant.agreement_id


def _create(world: World, agreement: str, **changes: object) -> whitelabel.WhiteLabelRecord:
    data = {
        "agreement": agreement,
        "model_name": "nimbus-chat",
        "brand": "Nimbus AI",
        "markup_pct": 50,
    } | changes
    with world.db.unit_of_work() as session:
        return whitelabel.create_white_label(
            session,
            whitelabel.WhiteLabelCreate.model_validate(data),
            principal=owner_of(world, "resell"),
            fee_bps=1000,
        )


def _balances(world: World) -> dict[str, int]:
    """Every account's balance (accounts opened at zero left out: opening one moves no money)."""
    with world.db.session() as session:
        rows = session.execute(select(LedgerAccount.code, LedgerAccount.balance)).all()
    return {code: balance for code, balance in rows if balance}


def _ledger_ok(world: World) -> None:
    with world.db.session() as session:
        check = ledger.verify(session)
    assert check.problems == [] and check.transactions > 0, check


@pytest.fixture
def resold(world: World) -> tuple[World, str, str]:
    """acme grants ``resell``; resell lists ``nimbus-chat`` and issues a key to its customer ``shopco``."""
    for slug in ("resell", "shopco", "otherco"):
        make_org(world.db, slug)
        with world.db.unit_of_work() as session:  # a public actor: others may name it (issue 9)
            create_model(
                session, ModelCreate(name="house", visibility="public"), principal=owner_of(world, slug)
            )
    agreement = _grant(world)
    offer = _create(world, agreement)
    assert ask_for_offer(world.db, offer.offer_id, "shopco") == "pending"  # the customer's consent
    with world.db.unit_of_work() as session:
        customer = whitelabel.add_customer(
            session, offer.offer_id, "shopco", principal=owner_of(world, "resell"), issue_key=True
        )
        ledger.top_up(session, org_id=_org_id(world.db, "shopco"), amount=1_000_000, idempotency_key="t:shop")
    assert customer.secret is not None
    return world, offer.offer_id, customer.secret


async def test_customer_sees_reseller_name_and_ledger_splits(resold: tuple[World, str, str]) -> None:
    world, offer_id, key = resold
    before = _balances(world)
    async with world.http() as http:
        models = (await http.get("/v1/models", headers=auth(key))).json()["data"]
        assert [m["id"] for m in models] == ["nimbus-chat"]  # the reseller's name, not acme/tiny
        assert models[0]["owned_by"] == "resell"
        r = await http.post("/v1/chat/completions", json={"model": "nimbus-chat", **CHAT}, headers=auth(key))
        assert r.status_code == 200, r.text
        r = await http.post("/v1/chat/completions", json={"model": MODEL, **CHAT}, headers=auth(key))
        assert r.status_code == 404  # the key reaches only the offer it was issued for: others are invisible
        assert r.json()["error"]["code"] == "model_not_found"
    await world.gateway.admission.recorder.flush()
    assert world.backend.calls == 1  # served on the upstream backend
    after = _balances(world)
    delta = {code: after.get(code, 0) - before.get(code, 0) for code in after}
    shop, acme, resell = (_org_id(world.db, s) for s in ("shopco", "acme", "resell"))
    # 7 prompt + 3 completion tokens: customer price ceil(7*1.5 + 3*3) = 20, wholesale 7 + 6 = 13, fee 10 %
    assert delta[ledger.wallet_code(shop)] == -20
    assert delta[ledger.revenue_code(acme)] == 13
    assert delta[ledger.FEES_CODE] == 2
    assert delta[ledger.revenue_code(resell)] == 20 - 13 - 2
    with world.db.session() as session:  # three separate lines (six entries) in one transaction
        entries = session.execute(
            select(LedgerEntry.amount).where(LedgerEntry.transaction_id.like("usage:%"))
        ).all()
    assert sorted(a for (a,) in entries) == sorted([-20, 20, -13, 13, -2, 2])
    _ledger_ok(world)


async def test_bad_input_charges_nothing(resold: tuple[World, str, str]) -> None:
    world, offer_id, _ = resold
    before = _balances(world)
    agreement = _grant(world, max_customers=5)
    with pytest.raises(ValidationError, match="markup 80% is outside"):
        _create(world, agreement, markup_pct=80, model_name="nimbus-2")
    with pytest.raises(ValidationError, match="brand rules forbid `openai`"):
        _create(world, agreement, brand="OpenAI Nimbus", model_name="nimbus-3")
    with pytest.raises(ValidationError, match="upstream model"):
        _create(world, agreement, model_name="tiny-by-nimbus")
    ask_for_offer(world.db, offer_id, "otherco")  # it asked: the cap is what refuses
    with world.db.unit_of_work() as session, pytest.raises(ConflictError, match="caps customers at 1"):
        whitelabel.add_customer(session, offer_id, "otherco", principal=owner_of(world, "resell"))
    expired = _grant(world, expires_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    import time

    time.sleep(1.1)
    with pytest.raises(ForbiddenError, match="expired"):
        _create(world, expired, model_name="nimbus-4")
    with world.db.unit_of_work() as session, pytest.raises(NotFoundError):  # another's agreement: absent
        whitelabel.create_white_label(
            session,
            whitelabel.WhiteLabelCreate(agreement=agreement, model_name="x", brand="X", markup_pct=0),
            principal=owner_of(world, "otherco"),
            fee_bps=0,
        )
    with world.db.unit_of_work() as session, pytest.raises(Exception) as caught:  # not the owner: 403/404
        whitelabel.grant_reseller(
            session,
            whitelabel.ResellerGrant(
                reseller="otherco",
                model=MODEL,
                wholesale_input_per_mtok=0,
                wholesale_output_per_mtok=0,
                max_markup_pct=0,
                max_customers=1,
            ),
            principal=owner_of(world, "resell"),
        )
    assert getattr(caught.value, "status_code", 0) in (403, 404)
    assert _balances(world) == before
    _ledger_ok(world)


async def test_rest_surface_and_tenancy(resold: tuple[World, str, str]) -> None:
    world, offer_id, key = resold
    from tests.conftest import make_key

    resell_key, other_key = make_key(world.db, "resell", "admin"), make_key(world.db, "otherco", "admin")
    async with world.http() as http:
        r = await http.get("/api/v1/resellers", headers=auth(resell_key))
        assert [g["model"] for g in r.json()] == [MODEL]
        assert (await http.get("/api/v1/resellers", headers=auth(other_key))).json() == []
        agreement = r.json()[0]["agreement"]
        bad = {"agreement": agreement, "model_name": "nimbus-9", "brand": "Nimbus", "markup_pct": 51}
        r = await http.post("/api/v1/white-label", json=bad, headers=auth(resell_key))
        assert r.status_code == 422 and "outside the agreement" in r.json()["error"]["message"]
        r = await http.post("/api/v1/white-label", json=bad | {"markup_pct": 10}, headers=auth(other_key))
        assert r.status_code == 404
        r = await http.post(
            f"/api/v1/white-label/{offer_id}/customers",
            json={"customer": "otherco"},
            headers=auth(resell_key),
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        assert "has not requested" in r.json()["error"]["message"]
        r = await http.post(
            f"/api/v1/white-label/{offer_id}/customers", json={"customer": "otherco"}, headers=auth(other_key)
        )
        assert r.status_code in (403, 404)
        r = await http.post(f"/api/v1/offers/{offer_id}/entitlements", headers=auth(other_key))
        assert r.status_code == 201 and r.json()["status"] == "pending", r.text  # waits for the reseller
        (asked,) = [e for e in (await http.get("/api/v1/entitlements", headers=auth(resell_key))).json()
                    if e["status"] == "pending"]  # fmt: skip
        r = await http.post(f"/api/v1/entitlements/{asked['id']}/approve", headers=auth(resell_key))
        assert r.status_code == 403 and "reseller adds the customers" in r.json()["error"]["message"]
        r = await http.post(
            f"/api/v1/white-label/{offer_id}/customers",
            json={"customer": "otherco"},
            headers=auth(resell_key),
        )
        assert r.status_code == 409 and "caps customers at 1" in r.json()["error"]["message"]
        # branding: the reseller's host shows its name in the console
        brand = {"host": "ai.nimbus.test", "display_name": "Nimbus AI", "accent": "#112233"}
        assert (await http.put("/api/v1/brand", json=brand, headers=auth(resell_key))).status_code == 200
        r = await http.put("/api/v1/brand", json=brand | {"display_name": "Evil"}, headers=auth(other_key))
        assert r.status_code == 409
        page = await http.get("/", headers={"host": "ai.nimbus.test"})
        assert "Nimbus AI" in page.text and "#112233" in page.text
        assert "Nimbus AI" not in (await http.get("/")).text
    # the brand it is marketed under is a fact the obligations engine reads
    from valuechain.accounts.principal import system_principal
    from valuechain.compliance.facts import facts_from_manifest
    from valuechain.registry.export import export_manifest

    with world.db.session() as session:
        manifest = export_manifest(session)
    offers = [o for o in facts_from_manifest(manifest).offers if o.channel == "white_label"]
    assert [(o.by, o.brand, o.marketed_as) for o in offers] == [("resell", "Nimbus AI", "nimbus-chat")]
    del system_principal
    _ledger_ok(world)


async def test_a_customer_that_never_asked_cannot_be_added(world: World) -> None:
    """Consent (issue 11): the reseller's key bills the customer's wallet, so an organisation that never
    asked for the offer is refused (409, nothing created, no key); once it asks, the reseller adds it."""
    from valuechain.accounts.models import ApiKey
    from valuechain.market.models import Entitlement

    _customers(world)
    offer = _create(world, _grant(world, max_customers=3))
    shop = _org_id(world.db, "shopco")
    with world.db.unit_of_work() as session:
        ledger.top_up(session, org_id=shop, amount=1_000_000, idempotency_key="t:victim")
    before = _balances(world)

    def rows() -> tuple[int, int]:
        with world.db.session() as session:
            keys = session.scalars(select(ApiKey.id).where(ApiKey.org_id == shop)).all()
            ents = session.scalars(select(Entitlement.id).where(Entitlement.org_id == shop)).all()
        return len(keys), len(ents)

    assert rows() == (0, 0)
    resell_key = make_key(world.db, "resell", "admin")
    add = f"/api/v1/white-label/{offer.offer_id}/customers"
    async with world.http() as http:
        r = await http.post(add, json={"customer": "shopco", "issue_key": True}, headers=auth(resell_key))
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "conflict" and "key" not in r.json()
        assert f"valuechain access request {offer.offer_id} --as shopco" in error["message"]
        assert rows() == (0, 0)  # no key, no customer row
        # shopco asks through its own key: pending, then the reseller's addition approves that very request
        shop_key = make_key(world.db, "shopco", "member")
        r = await http.post(f"/api/v1/offers/{offer.offer_id}/entitlements", headers=auth(shop_key))
        assert r.status_code == 201 and r.json()["status"] == "pending", r.text
        asked = r.json()["id"]
        assert _balances(world) == before  # wallet untouched by the refusal
        r = await http.post(add, json={"customer": "shopco", "issue_key": True}, headers=auth(resell_key))
        assert r.status_code == 201 and r.json()["key"], r.text
        key = r.json()["key"]
        (ent,) = [e for e in (await http.get("/api/v1/entitlements", headers=auth(shop_key))).json()
                  if e["offer"] == offer.offer_id]  # fmt: skip
        assert (ent["id"], ent["status"]) == (asked, "approved")  # one entitlement: the request, approved
        r = await http.post("/v1/chat/completions", json={"model": "nimbus-chat", **CHAT}, headers=auth(key))
        assert r.status_code == 200, r.text
    await world.gateway.admission.recorder.flush()
    after = _balances(world)
    assert after[ledger.wallet_code(shop)] - before[ledger.wallet_code(shop)] == -20
    _ledger_ok(world)


def _customers(world: World) -> None:
    for slug in ("resell", "shopco", "otherco"):
        make_org(world.db, slug)
        with world.db.unit_of_work() as session:  # a public actor: others may name it (issue 9)
            create_model(
                session, ModelCreate(name="house", visibility="public"), principal=owner_of(world, slug)
            )


async def _served_then_stopped(world: World, key: str, agreement: str, stop: object) -> openai.APIError:
    """One answered request, then ``stop()``; the next request's error, with nothing charged for it."""
    client = world.client(key)
    assert [m.id async for m in client.models.list()] == ["nimbus-chat"]
    await client.chat.completions.create(model="nimbus-chat", **CHAT)  # type: ignore[call-overload]
    await world.gateway.admission.recorder.flush()
    before = _balances(world)
    await stop()  # type: ignore[operator]
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await client.chat.completions.create(model="nimbus-chat", **CHAT)  # type: ignore[call-overload]
    assert caught.value.code == "model_access_denied" and agreement in caught.value.message
    assert [m.id async for m in client.models.list()] == []  # not listed: OpenAI clients pick from the list
    await world.gateway.admission.recorder.flush()
    assert _balances(world) == before  # nothing charged
    assert world.backend.calls == 1
    _ledger_ok(world)
    return caught.value


async def test_an_expired_agreement_stops_the_customers_requests(world: World) -> None:
    _customers(world)
    agreement = _grant(world, expires_at=(datetime.now(UTC) + timedelta(seconds=2)).isoformat())
    offer = _create(world, agreement)
    ask_for_offer(world.db, offer.offer_id, "shopco")
    with world.db.unit_of_work() as session:
        customer = whitelabel.add_customer(
            session, offer.offer_id, "shopco", principal=owner_of(world, "resell"), issue_key=True
        )
        ledger.top_up(
            session, org_id=_org_id(world.db, "shopco"), amount=1_000_000, idempotency_key="t:shop2"
        )

    async def expire() -> None:
        await asyncio.sleep(2.2)
        world.gateway.admission.access.invalidate()  # (the cache would expire within its 2 s TTL anyway)

    error = await _served_then_stopped(world, customer.secret or "", agreement, expire)
    assert "expired" in error.message


async def test_a_revoked_agreement_stops_the_customers_requests(resold: tuple[World, str, str]) -> None:
    """The owner revokes the reseller agreement: the white-label offer made under it stops at once."""
    world, offer_id, key = resold
    agreement = _agreement_of(world)
    resell_key, other_key = make_key(world.db, "resell", "admin"), make_key(world.db, "otherco", "admin")

    async def revoke() -> None:
        async with world.http() as http:
            for refused, status in ((resell_key, 403), (other_key, 404)):  # owner only; hidden: absent
                r = await http.delete(f"/api/v1/agreements/{agreement}", headers=auth(refused))
                assert r.status_code == status, r.text
            r = await http.delete(f"/api/v1/agreements/{agreement}", headers=auth(world.provider_key))
            assert r.status_code == 200 and r.json()["revoked_at"], r.text
        # no explicit cache drop: the revocation's commit drops the gateway's access cache

    error = await _served_then_stopped(world, key, agreement, revoke)
    assert "revoked" in error.message
    async with world.http() as http:
        r = await http.post(
            f"/api/v1/white-label/{offer_id}/customers",
            json={"customer": "otherco"},
            headers=auth(resell_key),
        )
        assert r.status_code == 403 and "revoked" in r.json()["error"]["message"]
        r = await http.get("/api/v1/resellers", headers=auth(resell_key))
        assert [g["revoked"] for g in r.json()] == [True]


def _agreement_of(world: World) -> str:
    with world.db.session() as session:
        (grant,) = whitelabel.list_resellers(session, principal=owner_of(world, "resell"))
    return grant.agreement_id


async def test_a_customer_key_calls_only_the_offer_it_was_issued_for(world: World) -> None:
    """devco, entitled to acme/tiny itself, becomes a reseller's customer: the key the reseller issued it
    calls the white-label model only, not devco's other models, and reaches no REST or hub route."""
    _customers(world)
    offer = _create(world, _grant(world, max_customers=3))
    ask_for_offer(world.db, offer.offer_id, "devco")
    with world.db.unit_of_work() as session:
        issued = whitelabel.add_customer(
            session, offer.offer_id, "devco", principal=owner_of(world, "resell"), issue_key=True
        )
        ledger.top_up(session, org_id=_org_id(world.db, "devco"), amount=1_000_000, idempotency_key="t:dev")
    key = issued.secret or ""
    await world.client().chat.completions.create(model=MODEL, **CHAT)  # type: ignore[call-overload]
    await world.gateway.admission.recorder.flush()  # devco's own key still calls acme/tiny
    before = _balances(world)
    client = world.client(key)
    assert [m.id async for m in client.models.list()] == ["nimbus-chat"]
    with pytest.raises(openai.NotFoundError) as caught:  # as if it did not exist
        await client.chat.completions.create(model=MODEL, **CHAT)  # type: ignore[call-overload]
    assert caught.value.code == "model_not_found"
    await client.chat.completions.create(model="nimbus-chat", **CHAT)  # type: ignore[call-overload]
    async with world.http() as http:
        refused = [
            await http.get("/api/v1/models", headers=auth(key)),
            await http.get("/api/v1/usage", headers=auth(key)),
            await http.get("/hub/api/models", headers=auth(key)),
            await http.get("/v1/files", headers=auth(key)),
            await http.get("/v1/fine_tuning/jobs", headers=auth(key)),
            await http.post(
                "/v1/files",
                headers=auth(key),
                files={"file": ("a.jsonl", b'{"messages": []}\n')},
                data={"purpose": "fine-tune"},
            ),
            await http.post(f"/api/v1/offers/{world.offer_id}/entitlements", headers=auth(key)),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]
        assert "issued for" in refused[0].json()["error"]["message"]
        keys = (await http.get("/api/v1/orgs/devco/keys", headers=auth(make_key(world.db, "devco")))).json()
    assert [k["offers"] for k in keys if k["id"] == issued.key_id] == [[offer.offer_id]]
    await world.gateway.admission.recorder.flush()
    delta = {c: _balances(world).get(c, 0) - before.get(c, 0) for c in _balances(world)}
    dev = _org_id(world.db, "devco")
    assert delta[ledger.wallet_code(dev)] == -20  # the white-label request only
    assert world.backend.calls == 2
    _ledger_ok(world)


async def test_the_cap_counts_customers_across_the_agreements_offers(world: World) -> None:
    """The cap is the agreement's: a second offer under the same agreement does not reset it."""
    _customers(world)
    agreement = _grant(world, max_customers=1)
    first = _create(world, agreement)
    second = _create(world, agreement, model_name="nimbus-lite", brand="Nimbus Lite")
    for offer_id, slug in (
        (first.offer_id, "shopco"),
        (second.offer_id, "otherco"),
        (second.offer_id, "shopco"),
    ):
        ask_for_offer(world.db, offer_id, slug)
    resell_key = make_key(world.db, "resell", "admin")
    before = _balances(world)
    async with world.http() as http:

        async def add(offer: str, customer: str) -> httpx.Response:
            body = {"customer": customer}
            return await http.post(
                f"/api/v1/white-label/{offer}/customers", json=body, headers=auth(resell_key)
            )

        assert (await add(first.offer_id, "shopco")).status_code == 201
        r = await add(second.offer_id, "otherco")
        assert r.status_code == 409 and "caps customers at 1" in r.json()["error"]["message"], r.text
        assert (await add(second.offer_id, "shopco")).status_code == 201  # the same customer: one of one
    assert _balances(world) == before


async def test_out_of_range_prices_are_refused(world: World) -> None:
    _customers(world)
    body = {
        "reseller": "resell",
        "model": MODEL,
        "wholesale_input_per_mtok": 10**19,
        "wholesale_output_per_mtok": 0,
        "max_markup_pct": 10,
        "max_customers": 1,
    }
    async with world.http() as http:
        r = await http.post("/api/v1/resellers", json=body, headers=auth(world.provider_key))
        assert r.status_code == 422 and "wholesale_input_per_mtok" in r.text, r.text  # not a 500
        assert (await http.get("/api/v1/resellers", headers=auth(world.provider_key))).json() == []


def test_the_customer_cap_holds_under_concurrency(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    customers = [f"cust{i}" for i in range(6)]
    for slug in ("resell", *customers):
        make_org(world.db, slug)
    with world.db.unit_of_work() as session:
        create_model(
            session, ModelCreate(name="house", visibility="public"), principal=owner_of(world, "resell")
        )
    offer = _create(world, _grant(world, max_customers=2))
    reseller = owner_of(world, "resell")
    for slug in customers:
        ask_for_offer(world.db, offer.offer_id, slug)

    def add(slug: str) -> str:
        try:
            with world.db.unit_of_work() as session:
                whitelabel.add_customer(session, offer.offer_id, slug, principal=reseller)
            return "ok"
        except ConflictError:
            return "capped"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(add, customers))
    assert sorted(results) == ["capped"] * 4 + ["ok"] * 2
    _ledger_ok(world)


def test_a_white_label_charge_reads_back_from_the_journal() -> None:

    import orjson

    from valuechain.gateway.journal import decode
    from valuechain.gateway.records import Entry, UsageRow
    from valuechain.market.ledger import UsageCharge

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    usage = UsageRow(
        id="req_1", created_at=now, org_id="org_c", key_id=None, provider_org_id="org_r", offer_id="off_1",
        version_id="ver_1", model="nimbus", endpoint="chat", stream=False, status=200, error_code=None,
        prompt_tokens=7, completion_tokens=3, latency_ms=1.0, cost=20, currency="EUR",
    )  # fmt: skip
    charge = UsageCharge(
        transaction_id="usage:req_1", org_id="org_c", payer_account_id="w", payee_account_id="r", amount=20,
        memo="chat nimbus", created_at=now, splits=(("r", "p", 13), ("r", "f", 2)),
    )  # fmt: skip
    entry = Entry(usage=usage, charge=charge)
    assert decode(orjson.loads(orjson.dumps(entry, default=str))) == entry  # as the journal writes it
