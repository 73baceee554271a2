"""Admission under concurrency: no overspend, no reservation left behind, limits (disconnects: test_settlement)."""

from __future__ import annotations

import asyncio

import openai
import pytest
from sqlalchemy import func, select, text

from tests.gateway.conftest import MODEL, World, _org_id, default_terms, setup_world
from tests.gateway.helpers import fresh_minute, set_wallet
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.models import UsageRecord
from valuechain.market import ledger
from valuechain.market.terms import Limits


async def _chat(world: World, **kw: object) -> object:
    try:
        return await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hello there"}], max_tokens=16, **kw
        )  # type: ignore[call-overload]
    except openai.RateLimitError as exc:
        return exc


async def test_200_concurrent_never_overspend(world: World) -> None:
    plan = world.gateway.admission  # max cost of one request: prompt estimate 2+11+8+16=37 in, 16 out
    max_cost = -(-(37 * 1_000_000 + 16 * 2_000_000) // 1_000_000)
    set_wallet(world, 50 * max_cost)
    org = _org_id(world.db, "devco")
    await plan.reservations.invalidate(org)
    world.backend.delay_s = 0.01
    results = await asyncio.gather(*[_chat(world) for _ in range(200)])
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) >= 50
    with world.db.session() as session:
        balance = ledger.wallet_balance(session, org)
        billed = session.execute(
            select(func.sum(UsageRecord.cost)).where(UsageRecord.org_id == org)
        ).scalar_one()
        assert ledger.verify(session).problems == []
    assert balance >= -max_cost
    assert billed <= 50 * max_cost + max_cost
    assert await plan.reservations.held(org) == 0


async def test_rate_limit_per_key(db: Database, settings: Settings) -> None:
    fresh_minute()
    world = setup_world(db, settings, default_terms(key_limits=Limits(requests_per_minute=3)))
    results = [await _chat(world) for _ in range(5)]
    errors = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(errors) == 2
    assert errors[0].response.headers["x-should-retry"] == "true"
    assert int(errors[0].response.headers["retry-after"]) >= 1
    await world.gateway.close()


async def test_daily_token_budget_is_final(db: Database, settings: Settings) -> None:
    world = setup_world(db, settings, default_terms(org_limits=Limits(tokens_per_day=60)))
    first = await _chat(world)
    assert not isinstance(first, Exception)
    second = await _chat(world)
    assert isinstance(second, openai.RateLimitError)
    assert second.response.headers["x-should-retry"] == "false"
    await world.gateway.close()


async def test_concurrency_slot_released_after_stream(db: Database, settings: Settings) -> None:
    world = setup_world(db, settings, default_terms(key_limits=Limits(concurrent_requests=1)))
    for _ in range(3):
        stream = await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4, stream=True
        )
        assert [c async for c in stream]
    await world.gateway.close()


async def test_backend_error_releases_hold_and_bills_nothing(world: World) -> None:
    from valuechain.runtime.base import BackendUnavailableError

    org = _org_id(world.db, "devco")
    world.backend.fail = BackendUnavailableError("down")
    with pytest.raises(openai.InternalServerError):
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
        )
    with world.db.session() as session:
        row = session.execute(
            select(UsageRecord.status, UsageRecord.cost).where(UsageRecord.org_id == org)
        ).one()
    assert tuple(row) == (503, 0)
    assert await world.gateway.admission.reservations.held(org) == 0


async def test_metering_connections_do_not_leak_their_pragmas_to_the_pool(
    db: Database, settings: Settings, sqlite_only: None
) -> None:
    """The metering connections skip WAL checkpoints and lock waits; sessions must keep SQLite's defaults."""
    world = setup_world(db, settings, default_terms())
    for _ in range(3):
        assert not isinstance(await _chat(world), Exception)
    await asyncio.gather(*[_chat(world) for _ in range(8)])  # the writer thread's connection too
    await world.gateway.close()
    for _ in range(3):
        with db.session() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
