"""Holds on a wallet mirror (in process): the available balance is the posted one less the holds in flight."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from valuechain.market.reservations import MemoryReservations, RedisReservations


async def test_holds_count_against_the_balance_until_settled_to_the_real_cost() -> None:
    loads = []

    async def load() -> int:
        loads.append(1)
        return 100

    res = MemoryReservations(mirror_ttl_s=60)
    assert await res.reserve("org", "r1", 60, load=load)
    assert not await res.reserve("org", "r2", 50, load=load)  # 100 - 60 held < 50
    assert await res.reserve("org", "r3", 40, load=load)
    assert await res.held("org") == 100
    await res.settle("org", "r1", 30)  # the real cost: 100 - 30 posted, 40 still held
    assert await res.held("org") == 40
    assert await res.reserve("org", "r4", 30, load=load)
    assert not await res.reserve("org", "r5", 1, load=load)
    await res.settle("org", "r3", 0)
    await res.settle("org", "r4", 0)
    await res.settle("org", "r4", 70)  # settling twice changes nothing
    assert await res.held("org") == 0
    assert await res.reserve("org", "r6", 70, load=load) and len(loads) == 1
    await res.settle("org", "r6", 0)
    await res.invalidate("org")  # after a top-up: the next hold reloads the posted balance
    assert await res.reserve("org", "r7", 100, load=load) and len(loads) == 2


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_forgetting_a_balance_never_loaded_is_harmless() -> None:
    res = MemoryReservations()
    await res.invalidate("org")
    assert await res.held("org") == 0


async def test_the_mirrored_balance_is_reloaded_once_older_than_its_ttl() -> None:
    balances = [100, 40]

    async def load() -> int:
        return balances.pop(0)

    clock = Clock()
    res = MemoryReservations(clock=clock)
    assert await res.reserve("org", "r1", 10, load=load)
    clock.now += 5.0  # exactly the default 5 s: still fresh
    assert await res.reserve("org", "r2", 80, load=load)
    await res.settle("org", "r1", 0)
    await res.settle("org", "r2", 0)
    clock.now += 0.5  # older: reloaded (40 now)
    assert not await res.reserve("org", "r3", 41, load=load)
    assert balances == []


# --- Redis ------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("VALUECHAIN_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests need VALUECHAIN_TEST_REDIS_URL")
    return url


async def test_redis_holds_live_under_their_keys_with_their_ttls(redis_url: str) -> None:
    import redis.asyncio as redis

    prefix = f"vc:test:{uuid.uuid4().hex[:8]}:"
    res = RedisReservations(redis_url, prefix=prefix, hold_ttl_s=600, mirror_ttl_s=20)
    default = RedisReservations(redis_url)
    raw = redis.from_url(redis_url)
    try:
        loads: list[int] = []

        async def load() -> int:
            loads.append(1)
            return 100

        before = time.time()
        assert await res.reserve("org", "r1", 30, load=load)
        assert await res.reserve("org", "r2", 70, load=load)
        assert not await res.reserve("org", "r3", 1, load=load)
        assert loads == [1]
        assert await res.held("org") == 100 and await res.held("other") == 0
        assert int(await raw.get(f"{prefix}org:balance")) == 100
        assert 15 < await raw.ttl(f"{prefix}org:balance") <= 20
        assert await raw.hgetall(f"{prefix}org:holds") == {b"r1": b"30", b"r2": b"70"}
        expiry = dict(await raw.zrange(f"{prefix}org:hold_expiry", 0, -1, withscores=True))
        assert set(expiry) == {b"r1", b"r2"}
        assert before + 600 <= expiry[b"r1"] <= time.time() + 600
        await res.settle("org", "r1", 25)
        assert int(await raw.get(f"{prefix}org:balance")) == 75
        assert await res.held("org") == 70
        await res.invalidate("org")
        assert await raw.exists(f"{prefix}org:balance") == 0
        assert await raw.exists(f"{prefix}org:holds") == 1  # holds in flight survive a reload
        # the default key space
        assert default._keys("org") == [
            "vc:res:org:balance",
            "vc:res:org:hold_expiry",
            "vc:res:org:holds",
            f"vc:res:replica:{default.replica}:holds",  # this replica's list, for release when it dies
        ]
    finally:
        await raw.delete(*[k async for k in raw.scan_iter(f"{prefix}*")])
        await raw.aclose()
        await res.close()
        await default.close()


async def test_a_balance_loaded_by_another_replica_first_is_kept(redis_url: str) -> None:
    import redis.asyncio as redis

    prefix = f"vc:test:{uuid.uuid4().hex[:8]}:"
    res = RedisReservations(redis_url, prefix=prefix)
    raw = redis.from_url(redis_url)
    try:

        async def load() -> int:
            await raw.set(f"{prefix}org:balance", 10)  # the other replica's load wins the race
            return 1000

        assert not await res.reserve("org", "r1", 500, load=load)
        assert int(await raw.get(f"{prefix}org:balance")) == 10
        assert await raw.ttl(f"{prefix}org:balance") == -1  # set by the other: its own expiry
    finally:
        await raw.delete(*[k async for k in raw.scan_iter(f"{prefix}*")])
        await raw.aclose()
        await res.close()


async def test_redis_mirror_expires_after_thirty_seconds_by_default(redis_url: str) -> None:
    import redis.asyncio as redis

    prefix = f"vc:test:{uuid.uuid4().hex[:8]}:"
    res = RedisReservations(redis_url, prefix=prefix)
    raw = redis.from_url(redis_url)
    try:

        async def load() -> int:
            return 5

        before = time.time()
        assert await res.reserve("org", "r1", 5, load=load)
        assert 25 < await raw.ttl(f"{prefix}org:balance") <= 30
        expiry = dict(await raw.zrange(f"{prefix}org:hold_expiry", 0, -1, withscores=True))
        assert before + 900 <= expiry[b"r1"] <= time.time() + 900
    finally:
        await raw.delete(*[k async for k in raw.scan_iter(f"{prefix}*")])
        await raw.aclose()
        await res.close()
