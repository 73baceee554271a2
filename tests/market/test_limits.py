"""Limit counters: the in-process and the Redis limiter refuse the same requests, naming the same counter."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest

from valuechain.market.limits import Counter, Limiter, MemoryLimiter, RedisLimiter


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> Limiter:
    if request.param == "memory":
        return MemoryLimiter()
    url = os.environ.get("VALUECHAIN_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests need VALUECHAIN_TEST_REDIS_URL")
    return RedisLimiter(url, prefix=f"vc:test:{uuid.uuid4().hex[:8]}:")


def _counter(name: str, limit: int, amount: int, kind: str = "tokens") -> Counter:
    return Counter(f"key:k:o:{name}", limit, amount, 60, kind, "key", name, 30.0)


async def test_a_request_over_a_limit_that_is_not_the_last_is_refused(limiter: Limiter) -> None:
    """Issue 17 follow-up: the Redis script lost the failing index when the failing counter was not the
    last one (a Lua table with a hole), so a request larger than a key's token limit was admitted."""
    tokens = _counter("tokens_per_minute", 100, 500)
    requests = _counter("requests_per_minute", 10, 1, "requests")
    result = await limiter.hit([tokens, requests])
    assert result.failed == tokens
    first = await limiter.hit([requests, replace(tokens, amount=60)])
    assert first.failed is None and first.values == (1, 60)
    second = await limiter.hit([requests, replace(tokens, amount=60)])
    assert second.failed is not None and second.failed.name == "tokens_per_minute"
    third = await limiter.hit([_counter("requests_per_minute", 1, 1, "requests"), requests])
    assert third.failed is not None and third.failed.limit == 1
    await limiter.close()
