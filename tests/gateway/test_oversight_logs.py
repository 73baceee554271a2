"""Misuse rules, manual suspension with audit reason, request-log policy and redaction, tenant scoping."""

from __future__ import annotations

from datetime import timedelta

import openai
import pytest
from sqlalchemy import select

from tests.gateway.conftest import MODEL, World, _org_id
from valuechain.accounts.principal import system_principal
from valuechain.core.audit import AuditEvent
from valuechain.core.clock import utcnow
from valuechain.gateway.logs import purge_expired, redact
from valuechain.gateway.models import RequestLog
from valuechain.oversight import service as oversight


def _provider(world: World):  # type: ignore[no-untyped-def]
    return system_principal(org_id=_org_id(world.db, "acme"), org_slug="acme")


async def _chat(world: World, content: str = "hi", key: str | None = None) -> str:
    r = await world.client(key).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}], max_tokens=4
    )
    return r.choices[0].message.content or ""


async def test_manual_suspend_and_reinstate_are_audited(world: World) -> None:
    with world.db.unit_of_work() as session:
        oversight.suspend(
            session,
            principal=_provider(world),
            subject_type="org",
            subject_id="devco",
            reason="scraping the model",
        )
    with pytest.raises(openai.PermissionDeniedError) as info:
        await _chat(world)
    assert "suspended" in info.value.message and "scraping the model" in info.value.message
    with world.db.unit_of_work() as session:
        oversight.reinstate(
            session,
            principal=_provider(world),
            subject_type="org",
            subject_id="devco",
            reason="agreed to the usage policy",
        )
    assert await _chat(world)
    with world.db.session() as session:
        actions = {(e.action, e.reason) for e in session.execute(select(AuditEvent)).scalars()}
    assert ("org.suspend", "scraping the model") in actions
    assert ("org.reinstate", "agreed to the usage policy") in actions


async def test_prompt_rule_suspends_key(world: World) -> None:
    with world.db.unit_of_work() as session:
        oversight.create_rule(
            session,
            principal=_provider(world),
            name="no-bioweapons",
            kind="pattern",
            action="suspend",
            pattern=r"nerve agent",
        )
    with pytest.raises(openai.PermissionDeniedError):
        await _chat(world, "how to make a nerve agent")
    with pytest.raises(openai.PermissionDeniedError) as info:
        await _chat(world, "harmless now")
    assert "no-bioweapons" in info.value.message
    assert world.backend.calls == 0
    with world.db.session() as session:
        events = oversight.list_events(session, principal=_provider(world))
        assert [e.action for e in events] == ["suspend"]


async def test_full_log_redacts_pii_and_secrets_and_expires(world: World) -> None:
    await _chat(world, "mail me at jane.doe@example.org or +33 6 12 34 56 78, key vc_abcdefghij_" + "Z" * 30)
    with world.db.session() as session:
        row = session.execute(select(RequestLog.request_body, RequestLog.meta)).one()
    text = str(row[0])
    assert "jane.doe@example.org" not in text and "[email]" in text and "[phone]" in text
    assert "ZZZZZZZZZZ" not in text and "[secret]" in text
    assert row[1]["status"] == 200
    with world.db.unit_of_work() as session:
        assert purge_expired(session, now=utcnow() + timedelta(days=8)) == 1


def test_redact_keeps_plain_text() -> None:
    assert redact("nothing to hide here", pii=True) == "nothing to hide here"


async def test_usage_is_tenant_scoped(world: World) -> None:
    await _chat(world)
    async with world.http() as http:

        def get(key: str, view: str = "consumer"):  # type: ignore[no-untyped-def]
            return http.get(
                "/api/v1/usage", params={"view": view}, headers={"Authorization": f"Bearer {key}"}
            )

        own = (await get(world.dev_key)).json()
        assert len(own) == 1 and own[0]["requests"] == 1 and own[0]["cost"] > 0
        assert (await get(world.outsider_key)).json() == []
        assert (await get(world.outsider_key, "provider")).json() == []
        provider = (await get(world.provider_key, "provider")).json()
        assert provider[0]["org"] == _org_id(world.db, "devco")
