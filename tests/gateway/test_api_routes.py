"""The /api/v1 routes of the API channel through the ASGI app: roles, tenants, cache invalidation."""

from __future__ import annotations

import openai
import pytest
from sqlalchemy import select

from tests.conftest import make_key
from tests.gateway.conftest import MODEL, World, _org_id, default_terms
from tests.gateway.helpers import fresh_minute
from valuechain.accounts.models import ApiKey
from valuechain.accounts.principal import system_principal
from valuechain.accounts.service import revoke_key
from valuechain.market import service as market
from valuechain.oversight.models import Suspension
from valuechain.registry.models import Offer


async def test_provider_suspends_and_reinstates_over_http(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.provider_key}"}
    async with world.http() as http:
        r = await http.post(
            "/api/v1/suspensions",
            headers=headers,
            json={"subject_type": "org", "subject_id": "devco", "reason": "abuse report #12"},
        )
        assert r.status_code == 201
        with pytest.raises(openai.PermissionDeniedError) as info:
            await world.client().chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
            )
        assert "abuse report #12" in info.value.message
        r = await http.post(
            "/api/v1/reinstatements",
            headers=headers,
            json={"subject_type": "org", "subject_id": "devco", "reason": "resolved"},
        )
        assert r.status_code == 200 and r.json()["lifted"]
    ok = await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
    )
    assert ok.choices


async def test_members_and_other_orgs_cannot_act_as_provider(world: World) -> None:
    member = make_key(world.db, "acme", "member")
    body = {"subject_type": "org", "subject_id": "devco", "reason": "x"}
    async with world.http() as http:
        r = await http.post("/api/v1/suspensions", json=body, headers={"Authorization": f"Bearer {member}"})
        assert r.status_code == 403
        r = await http.put(
            f"/api/v1/offers/{world.offer_id}/api-terms",
            json={},
            headers={"Authorization": f"Bearer {make_key(world.db, 'devco', 'admin')}"},
        )
        assert r.status_code == 404  # another organisation's offer answers as absent


async def test_terms_change_applies_at_once(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.provider_key}"}
    terms = {"key_limits": {"requests_per_minute": 1}, "max_output_tokens": 8}
    fresh_minute()
    async with world.http() as http:
        r = await http.put(f"/api/v1/offers/{world.offer_id}/api-terms", json=terms, headers=headers)
        assert r.status_code == 200, r.text
    client = world.client()
    await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
    )
    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
        )


async def test_misuse_rule_over_http_and_events_visible_to_provider_only(world: World) -> None:
    async with world.http() as http:
        r = await http.post(
            "/api/v1/misuse-rules",
            headers={"Authorization": f"Bearer {world.provider_key}"},
            json={"name": "flag-secrets", "kind": "pattern", "action": "flag", "pattern": "password"},
        )
        assert r.status_code == 201
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "my password is hunter2"}], max_tokens=2
        )
        mine = await http.get(
            "/api/v1/misuse-events", headers={"Authorization": f"Bearer {world.provider_key}"}
        )
        theirs = await http.get(
            "/api/v1/misuse-events", headers={"Authorization": f"Bearer {world.outsider_key}"}
        )
    assert [e["action"] for e in mine.json()] == ["flag"]
    assert mine.json()[0]["org"] == _org_id(world.db, "devco")
    assert theirs.json() == []


async def test_read_scoped_key_cannot_change_prices(world: World) -> None:
    """Probe (issue 9): a key scoped `registry:read` changed an offer's prices."""
    reader = make_key(world.db, "acme", "admin", scopes=["registry:read"])
    terms = {"plan": {"input_per_mtok": 1, "output_per_mtok": 1}}
    async with world.http() as http:
        r = await http.put(
            f"/api/v1/offers/{world.offer_id}/api-terms",
            json=terms,
            headers={"Authorization": f"Bearer {reader}"},
        )
    assert r.status_code == 403 and "registry:write" in r.json()["error"]["message"]
    with world.db.session() as session:
        offer = session.get(Offer, world.offer_id)
        assert offer is not None and offer.terms["api"]["plan"]["input_per_mtok"] == 1_000_000


async def test_inference_only_key_cannot_suspend_an_organisation(world: World) -> None:
    """Probe (issue 9): an `inference`-only key suspended another organisation."""
    caller = make_key(world.db, "acme", "admin", scopes=["inference"])
    body = {"subject_type": "org", "subject_id": "devco", "reason": "probe"}
    async with world.http() as http:
        r = await http.post("/api/v1/suspensions", json=body, headers={"Authorization": f"Bearer {caller}"})
        assert r.status_code == 403 and "org:manage" in r.json()["error"]["message"]
        rule = {"name": "x", "kind": "pattern", "action": "suspend", "pattern": "."}
        r = await http.post("/api/v1/misuse-rules", json=rule, headers={"Authorization": f"Bearer {caller}"})
        assert r.status_code == 403
    with world.db.session() as session:
        assert session.execute(select(Suspension)).first() is None
    assert await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
    )


async def test_revocations_apply_on_the_next_request(world: World) -> None:
    """The access cache is dropped after the commit: no waiting for its TTL."""
    client = world.client()
    await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
    )
    provider = system_principal(org_id=_org_id(world.db, "acme"), org_slug="acme")
    with world.db.session() as session:
        ent_id = market.list_entitlements(session, principal=provider)[0].id
    with world.db.unit_of_work() as session:
        market.revoke(session, ent_id, principal=provider, reason="contract ended")
    with pytest.raises(openai.PermissionDeniedError) as info:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
        )
    assert "revoked" in info.value.message
    outsider = world.client(world.outsider_key)
    with pytest.raises(openai.PermissionDeniedError):
        await outsider.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
        )
    with world.db.session() as session:
        key_id = session.execute(
            select(ApiKey.id).where(ApiKey.org_id == _org_id(world.db, "outco"))
        ).scalar_one()
    with world.db.unit_of_work() as session:
        revoke_key(session, "outco", key_id, principal=system_principal(), reason="leaked")
    with pytest.raises(openai.AuthenticationError):
        await outsider.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
        )


@pytest.mark.parametrize("status", ["pending", "rejected", "revoked"])
async def test_an_entitlement_not_approved_never_reaches_the_model(world: World, status: str) -> None:
    """Only an approved entitlement routes to the backend: waiting, rejected and revoked ones get 403."""
    provider = system_principal(org_id=_org_id(world.db, "acme"), org_slug="acme")
    outco = system_principal(org_id=_org_id(world.db, "outco"), org_slug="outco")
    with world.db.unit_of_work() as session:
        if status == "revoked":
            ent_id = market.list_entitlements(session, principal=provider)[0].id
            market.revoke(session, ent_id, principal=provider, reason="contract ended")
        else:
            market.set_api_terms(
                session, world.offer_id, default_terms(access="approval"), principal=provider
            )
            ent = market.request_access(session, world.offer_id, principal=outco)
            assert ent.status == "pending"
            if status == "rejected":
                market.decide(session, ent.id, approve=False, principal=provider, note="no")
    key = world.dev_key if status == "revoked" else world.outsider_key
    calls = world.backend.calls
    with pytest.raises(openai.PermissionDeniedError) as info:
        await world.client(key).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
        )
    assert status in info.value.message or "waitlist" in info.value.message
    with pytest.raises(openai.PermissionDeniedError):
        await world.client(key).embeddings.create(model=MODEL, input="x")
    assert world.backend.calls == calls
