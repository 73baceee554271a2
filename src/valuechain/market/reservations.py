"""Holds against an organisation's prepaid balance: reserve the maximum cost before the backend call,
settle to the real cost after it (TigerBeetle-style two-phase transfers).

The database ledger is the source of truth; the guard keeps a mirror of each wallet's posted balance
plus the holds of requests in flight. ``available = posted − holds`` is checked and the hold added in one
atomic step (the event loop in process, a Lua script in Redis). Holds in Redis expire, so a crashed
process cannot leak them; sooner than that, each process (replica) lists its holds under its own id and
keeps a heartbeat key alive, and every live process releases the holds of one whose heartbeat lapsed
(issue 14: a replica killed mid-request leaves no hold behind).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

BalanceLoader = Callable[[], Awaitable[int]]
log = logging.getLogger("valuechain.market")


class Reservations(ABC):
    """Atomic holds on wallets."""

    @abstractmethod
    async def reserve(self, org_id: str, request_id: str, amount: int, *, load: BalanceLoader) -> bool:
        """Hold ``amount`` unless the available balance is smaller; True when held."""

    @abstractmethod
    async def settle(self, org_id: str, request_id: str, cost: int) -> None:
        """Drop the hold and lower the mirrored balance by ``cost`` (already posted in the ledger)."""

    @abstractmethod
    async def invalidate(self, org_id: str) -> None:
        """Forget the mirrored balance (after credits or top-ups); reloaded on next use."""

    @abstractmethod
    async def held(self, org_id: str) -> int:
        """Sum of the holds in flight."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (the Redis heartbeat) in a serving process."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class MemoryReservations(Reservations):
    """Holds in this process (the event loop makes check-and-hold atomic: no await in between)."""

    def __init__(self, *, mirror_ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._balance: dict[str, int] = {}
        self._loaded: dict[str, float] = {}
        self._holds: dict[str, dict[str, int]] = {}
        self._mirror_ttl_s = mirror_ttl_s
        self._clock = clock

    async def reserve(self, org_id: str, request_id: str, amount: int, *, load: BalanceLoader) -> bool:
        now = self._clock()
        if org_id not in self._balance or now - self._loaded[org_id] > self._mirror_ttl_s:
            # Reloading is safe: the posted balance already includes every committed cost, and holds
            # still in flight are subtracted below (a settle racing the reload can only under-count).
            self._balance[org_id] = await load()
            self._loaded[org_id] = now
        holds = self._holds.setdefault(org_id, {})
        if self._balance[org_id] - sum(holds.values()) < amount:
            return False
        holds[request_id] = amount
        return True

    async def settle(self, org_id: str, request_id: str, cost: int) -> None:
        holds = self._holds.get(org_id, {})
        if holds.pop(request_id, None) is not None and org_id in self._balance:
            self._balance[org_id] -= cost

    async def invalidate(self, org_id: str) -> None:
        self._balance.pop(org_id, None)

    async def held(self, org_id: str) -> int:
        return sum(self._holds.get(org_id, {}).values())


_RESERVE = """
local bal = redis.call('GET', KEYS[1])
if not bal then return -1 end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[3], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local held = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do held = held + tonumber(v) end
if tonumber(bal) - held < tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], 3600)
redis.call('EXPIRE', KEYS[3], 3600)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
redis.call('EXPIRE', KEYS[4], 3600)
return 1
"""

_SETTLE = """
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('HDEL', KEYS[3], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], ARGV[2]) end
end
return 0
"""

# The holds of a replica whose heartbeat lapsed: released (no cost: a journaled charge is committed by a
# sibling's journal scan, and the mirrored balance is reloaded from the ledger when it expires).
_RELEASE_REPLICA = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local holds = redis.call('HGETALL', KEYS[1])
for i = 1, #holds, 2 do
  redis.call('HDEL', holds[i + 1] .. 'holds', holds[i])
  redis.call('ZREM', holds[i + 1] .. 'hold_expiry', holds[i])
end
redis.call('DEL', KEYS[1])
return #holds / 2
"""


class RedisReservations(Reservations):
    """Holds in Redis, shared by every gateway process; each hold expires after ``hold_ttl_s``."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "vc:res:",
        hold_ttl_s: int = 900,
        mirror_ttl_s: int = 30,
        heartbeat_s: float = 2.0,
    ) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url)
        self._prefix = prefix
        self._hold_ttl_s = hold_ttl_s
        self._mirror_ttl_s = mirror_ttl_s
        self._heartbeat_s = heartbeat_s
        self.replica = secrets.token_hex(8)  # this process's id among those sharing the prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._release_replica = self._redis.register_script(_RELEASE_REPLICA)
        self._heartbeat: asyncio.Task[None] | None = None

    def _replica_keys(self, replica: str) -> list[str]:
        p = f"{self._prefix}replica:{replica}:"
        return [p + "holds", p + "alive"]

    def _keys(self, org_id: str) -> list[str]:
        p = self._org_prefix(org_id)
        return [p + "balance", p + "hold_expiry", p + "holds", self._replica_keys(self.replica)[0]]

    def _org_prefix(self, org_id: str) -> str:
        return f"{self._prefix}{org_id}:"

    async def start(self) -> None:
        """Keep this replica's heartbeat alive and release the holds of replicas whose heartbeat lapsed."""
        await self._beat()

        async def loop() -> None:
            while True:
                await asyncio.sleep(self._heartbeat_s)
                try:
                    await self._beat()
                    await self.release_dead_replicas()
                except Exception:  # Redis away: admission fails on its own; retried next beat
                    log.warning("hold heartbeat failed", exc_info=True)

        self._heartbeat = asyncio.get_running_loop().create_task(loop())

    async def _beat(self) -> None:
        alive = self._replica_keys(self.replica)[1]
        await self._redis.set(alive, 1, px=int(self._heartbeat_s * 5 * 1000))

    async def release_dead_replicas(self) -> int:
        """Release the holds of every replica whose heartbeat lapsed; returns how many."""
        released = 0
        async for key in self._redis.scan_iter(match=f"{self._prefix}replica:*:holds", count=500):
            name = key.decode() if isinstance(key, bytes) else str(key)
            replica = name[len(self._prefix) + len("replica:") : -len(":holds")]
            if replica == self.replica:
                continue
            count = int(await self._release_replica(keys=self._replica_keys(replica)))
            if count:
                log.warning("released %d holds of stopped replica %s", count, replica)
            released += count
        return released

    async def reserve(self, org_id: str, request_id: str, amount: int, *, load: BalanceLoader) -> bool:
        keys = self._keys(org_id)
        now = time.time()
        args: list[str | int | float] = [
            request_id,
            amount,
            now,
            now + self._hold_ttl_s,
            self._org_prefix(org_id),
        ]
        result = int(await self._reserve(keys=keys, args=args))
        if result == -1:
            balance = await load()
            await self._redis.set(keys[0], balance, ex=self._mirror_ttl_s, nx=True)
            result = int(await self._reserve(keys=keys, args=args))
        return result == 1

    async def settle(self, org_id: str, request_id: str, cost: int) -> None:
        await self._settle(keys=self._keys(org_id), args=[request_id, cost])

    async def invalidate(self, org_id: str) -> None:
        await self._redis.delete(self._keys(org_id)[0])

    async def held(self, org_id: str) -> int:
        values = await self._redis.hvals(self._keys(org_id)[2])
        return sum(int(v) for v in values)

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await self._redis.delete(self._replica_keys(self.replica)[1])
        await self._redis.aclose()
