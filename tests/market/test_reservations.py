"""Holds on a wallet mirror (in process): the available balance is the posted one less the holds in flight."""

from __future__ import annotations

from valuechain.market.reservations import MemoryReservations


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
