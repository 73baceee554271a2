"""Rate limits and token budgets: atomic check-all-then-add counters, in process or in Redis.

With Redis every gateway process shares the counters, so a limit holds across replicas (LiteLLM's
"100 RPM × 4 workers = 400" failure). Token limits are charged at admission with the request's maximum
(prompt estimate + max_tokens) and corrected to the real usage afterwards, so a request can never pass a
token limit it would exceed.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from valuechain.market.terms import Limits


@dataclass(frozen=True, slots=True)
class Counter:
    """One limit to check and charge: ``bucket`` is the full counter key including its window."""

    bucket: str
    limit: int
    amount: int
    ttl_s: int
    kind: str  # requests | tokens | concurrent
    scope: str  # key | org
    name: str  # requests_per_minute, …
    reset_s: float


@dataclass(frozen=True, slots=True)
class LimitResult:
    """``failed`` is the first counter that would exceed its limit (nothing was charged then)."""

    failed: Counter | None
    values: tuple[int, ...]


_WINDOWS = {
    "requests_per_minute": ("requests", 60),
    "tokens_per_minute": ("tokens", 60),
    "concurrent_requests": ("concurrent", 0),
    "tokens_per_day": ("tokens", 86_400),
    "tokens_per_month": ("tokens", 0),
}


def counters_for(
    limits: Limits, *, scope: str, subject_id: str, offer_id: str, tokens: int, now: float | None = None
) -> list[Counter]:
    """The counters a request charges under ``limits`` for one subject (a key or an org)."""
    now = time.time() if now is None else now
    out = []
    for name, (kind, window) in _WINDOWS.items():
        limit = getattr(limits, name)
        if limit is None:
            continue
        base = f"{scope}:{subject_id}:{offer_id}:{name}"
        if name == "concurrent_requests":
            bucket, ttl, reset = base, 900, 0.0
        elif name == "tokens_per_month":
            d = datetime.fromtimestamp(now, UTC)
            bucket, ttl = f"{base}:{d.year}{d.month:02d}", 32 * 86_400
            nxt = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC)
            reset = nxt.timestamp() - now
        else:
            index = int(now // window)
            bucket, ttl, reset = f"{base}:{index}", window + 5, (index + 1) * window - now
        amount = tokens if kind == "tokens" else 1
        out.append(Counter(bucket, limit, amount, ttl, kind, scope, name, reset))
    return out


class Limiter(ABC):
    """Atomic counters shared by every request of this process (or of all processes, with Redis)."""

    @abstractmethod
    async def hit(self, counters: list[Counter]) -> LimitResult:
        """Charge every counter if none would exceed its limit; otherwise charge none."""

    @abstractmethod
    async def add(self, adjustments: list[tuple[Counter, int]]) -> None:
        """Add ``delta`` to counters (negative: give back unused tokens or a concurrency slot)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class MemoryLimiter(Limiter):
    """Counters in this process: exact for one process, which is the embedded default."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}

    def _get(self, bucket: str, now: float) -> int:
        value, expires = self._values.get(bucket, (0, 0.0))
        return value if expires > now else 0

    async def hit(self, counters: list[Counter]) -> LimitResult:
        now = time.monotonic()
        values = [self._get(c.bucket, now) for c in counters]
        for c, v in zip(counters, values, strict=True):
            if v + c.amount > c.limit:
                return LimitResult(c, tuple(values))
        for c, v in zip(counters, values, strict=True):
            self._values[c.bucket] = (v + c.amount, now + c.ttl_s)
        if len(self._values) > 100_000:
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
        return LimitResult(None, tuple(v + c.amount for c, v in zip(counters, values, strict=True)))

    async def add(self, adjustments: list[tuple[Counter, int]]) -> None:
        now = time.monotonic()
        for c, delta in adjustments:
            value, expires = self._values.get(c.bucket, (0, 0.0))
            if expires > now:
                self._values[c.bucket] = (max(0, value + delta), expires)


_HIT = """
local n = #KEYS
local vals = {}
for i = 1, n do
  vals[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if vals[i] + tonumber(ARGV[3*i-1]) > tonumber(ARGV[3*i-2]) then
    vals[i+1] = i  -- right after the values read: a Lua table with a hole would be cut there
    return vals
  end
end
for i = 1, n do
  vals[i] = redis.call('INCRBY', KEYS[i], ARGV[3*i-1])
  redis.call('EXPIRE', KEYS[i], ARGV[3*i])
end
vals[n+1] = 0
return vals
"""

_ADD = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local v = redis.call('INCRBY', KEYS[i], ARGV[i])
    if v < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
  end
end
return 0
"""


class RedisLimiter(Limiter):
    """Counters in Redis, checked and charged in one Lua script (atomic across processes)."""

    def __init__(self, url: str, *, prefix: str = "vc:lim:") -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url)
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)
        self._add = self._redis.register_script(_ADD)

    async def hit(self, counters: list[Counter]) -> LimitResult:
        if not counters:
            return LimitResult(None, ())
        keys = [self._prefix + c.bucket for c in counters]
        args: list[int] = []
        for c in counters:
            args += [c.limit, c.amount, c.ttl_s]
        out = await self._hit(keys=keys, args=args)
        failed_index = int(out[-1])
        values = tuple(int(v) for v in out[:-1])
        return LimitResult(counters[failed_index - 1] if failed_index else None, values)

    async def add(self, adjustments: list[tuple[Counter, int]]) -> None:
        adjustments = [(c, d) for c, d in adjustments if d]
        if adjustments:
            await self._add(
                keys=[self._prefix + c.bucket for c, _ in adjustments], args=[d for _, d in adjustments]
            )

    async def close(self) -> None:
        await self._redis.aclose()
