"""The /api/v1 routes of the API channel through the ASGI app: roles, tenants, cache invalidation."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import make_key
from tests.gateway.conftest import MODEL, World, _org_id
from tests.gateway.helpers import fresh_minute


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
