"""Limits and reservations hold across gateway replicas sharing Redis (random key prefix per test)."""

from __future__ import annotations

import asyncio
import os

import openai
import pytest
import redis

from tests.gateway.conftest import MODEL, World, _org_id, default_terms, setup_world
from tests.gateway.fakes import FakeBackend
from tests.gateway.helpers import fresh_minute, set_wallet
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.state import build_gateway, random_prefix
from valuechain.market import ledger
from valuechain.market import service as market
from valuechain.market.terms import Limits

REDIS_URL = (
    os.environ.get("VALUECHAIN_TEST_REDIS_URL")
    or os.environ.get("VALUECHAIN_REDIS_URL")
    or "redis://127.0.0.1:6379/0"
)


def _redis_or_skip() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


def _replicas(db: Database, settings: Settings, limits: Limits) -> tuple[World, World]:
    url = _redis_or_skip()
    shared = Settings(home=settings.home, redis_url=url, _env_file=None)  # type: ignore[call-arg]
    prefix = random_prefix()
    first = setup_world(db, shared, default_terms(key_limits=limits), redis_prefix=prefix)
    from valuechain.app import create_app

    second_app = create_app(shared, database=db)
    second_app.state.gateway = build_gateway(shared, db, redis_prefix=prefix)
    second_app.state.gateway.pool.put(first.version_id, FakeBackend())
    second = World(**{**first.__dict__, "app": second_app, "gateway": second_app.state.gateway})
    return first, second


async def _chat(world: World) -> bool:
    try:
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
        )
    except openai.RateLimitError:
        return False
    return True


async def test_rate_limit_is_global_across_replicas(
    db: Database, settings: Settings, sqlite_only: None
) -> None:
    fresh_minute()
    a, b = _replicas(db, settings, Limits(requests_per_minute=10))
    results = [await _chat(a if i % 2 else b) for i in range(30)]
    assert sum(results) == 10
    await a.gateway.close()
    await b.gateway.close()


async def test_balance_is_shared_across_replicas(db: Database, settings: Settings, sqlite_only: None) -> None:
    a, b = _replicas(db, settings, Limits())
    max_cost = -(-((1 + 2 + 8 + 16) * 1_000_000 + 4 * 2_000_000) // 1_000_000)
    set_wallet(a, 5 * max_cost)
    a.backend.delay_s = 0.02
    results = await asyncio.gather(*[_chat(a if i % 2 else b) for i in range(40)])
    org = _org_id(db, "devco")
    with db.session() as session:
        assert ledger.wallet_balance(session, org) >= -max_cost
        assert ledger.verify(session).problems == []
    assert sum(results) >= 5
    assert await a.gateway.admission.reservations.held(org) == 0
    await a.gateway.close()
    await b.gateway.close()


async def test_200_concurrent_never_overspend_with_redis(
    db: Database, settings: Settings, sqlite_only: None
) -> None:
    a, b = _replicas(db, settings, Limits())
    max_cost = -(-((11 + 2 + 8 + 16) * 1_000_000 + 16 * 2_000_000) // 1_000_000)
    set_wallet(a, 50 * max_cost)
    a.backend.delay_s = 0.01
    b.gateway.pool.put(a.version_id, a.backend)

    async def chat(world: World) -> bool:
        try:
            await world.client().chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hello there"}], max_tokens=16
            )
        except openai.RateLimitError:
            return False
        return True

    results = await asyncio.gather(*[chat(a if i % 2 else b) for i in range(200)])
    org = _org_id(db, "devco")
    with db.session() as session:
        assert ledger.wallet_balance(session, org) >= -max_cost
        assert ledger.verify(session).problems == []
    assert sum(results) >= 50
    assert await a.gateway.admission.reservations.held(org) == 0
    await a.gateway.close()
    await b.gateway.close()


async def test_revocation_reaches_the_other_replica_at_once(db: Database, settings: Settings) -> None:
    """A replica with its own database handle drops its cache when another publishes the revocation."""
    url = _redis_or_skip()
    shared = Settings(home=settings.home, redis_url=url, _env_file=None)  # type: ignore[call-arg]
    prefix = random_prefix()
    a = setup_world(db, shared, default_terms(), redis_prefix=prefix)
    other_db = Database(db.url)
    from valuechain.app import create_app

    b_app = create_app(shared, database=other_db)
    b_app.state.gateway = build_gateway(shared, other_db, redis_prefix=prefix)
    b_app.state.gateway.pool.put(a.version_id, FakeBackend())
    assert b_app.state.gateway.invalidations is not None
    b_app.state.gateway.invalidations.start()
    await asyncio.wait_for(b_app.state.gateway.invalidations.ready.wait(), 5)
    b = World(**{**a.__dict__, "app": b_app, "gateway": b_app.state.gateway})
    assert await _chat(b)  # B now caches the caller for its TTL (2 s)
    provider = system_principal(org_id=_org_id(db, "acme"), org_slug="acme")
    with db.session() as session:
        ent_id = market.list_entitlements(session, principal=provider)[0].id
    with db.unit_of_work() as session:  # A's database handle: A's commit hook publishes
        market.revoke(session, ent_id, principal=provider, reason="contract ended")
    denied = False
    for _ in range(50):  # well inside the TTL
        await asyncio.sleep(0.02)
        try:
            await _chat(b)
        except openai.PermissionDeniedError:
            denied = True
            break
    assert denied
    await a.gateway.close()
    await b.gateway.close()
    other_db.dispose()


async def test_a_stopped_replicas_holds_are_released_by_a_live_one() -> None:
    """A replica killed mid-request leaves holds; once its heartbeat lapses a live replica drops them."""
    from valuechain.market.reservations import RedisReservations

    url, prefix = _redis_or_skip(), random_prefix() + "res:"
    killed = RedisReservations(url, prefix=prefix, heartbeat_s=0.1)
    survivor = RedisReservations(url, prefix=prefix, heartbeat_s=0.1)
    await killed.start()

    async def balance() -> int:
        return 1_000

    assert await killed.reserve("org_a", "req_1", 300, load=balance)
    assert await killed.reserve("org_a", "req_2", 200, load=balance)
    await killed.settle("org_a", "req_2", 150)  # settled before the kill: no longer held
    assert await survivor.reserve("org_a", "req_3", 100, load=balance)
    assert killed._heartbeat is not None
    killed._heartbeat.cancel()  # killed: no more heartbeats, nothing cleaned up
    assert await survivor.release_dead_replicas() == 0  # its heartbeat has not lapsed yet
    await survivor.start()
    for _ in range(50):
        await asyncio.sleep(0.1)
        if await survivor.held("org_a") == 100:
            break
    assert await survivor.held("org_a") == 100  # only the survivor's own hold is left
    await survivor.settle("org_a", "req_3", 0)
    assert await survivor.held("org_a") == 0
    await survivor.close()
    await killed._redis.aclose()
