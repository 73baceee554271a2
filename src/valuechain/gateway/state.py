"""The gateway's long-lived objects, built in the app lifespan and held on ``app.state.gateway``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.access import AccessResolver
from valuechain.gateway.admission import Admission
from valuechain.gateway.recorder import UsageRecorder
from valuechain.market.limits import Limiter, MemoryLimiter, RedisLimiter
from valuechain.market.reservations import MemoryReservations, RedisReservations, Reservations
from valuechain.runtime.pool import BackendPool


@dataclass
class GatewayState:
    """Admission, backends and limits of one process."""

    admission: Admission
    pool: BackendPool
    max_body_bytes: int

    async def close(self) -> None:
        await self.admission.recorder.close()
        await self.admission.limiter.close()
        await self.admission.reservations.close()
        await self.pool.close()


def build_gateway(settings: Settings, db: Database, *, redis_prefix: str | None = None) -> GatewayState:
    """Everything the /v1 surface needs; Redis-backed counters when ``VALUECHAIN_REDIS_URL`` is set."""
    from valuechain.market.ledger import wallet_balance
    from valuechain.oversight.rules import RuleBook
    from valuechain.oversight.service import apply_rule_actions

    limiter: Limiter
    reservations: Reservations
    if settings.redis_url:
        prefix = redis_prefix if redis_prefix is not None else settings.redis_key_prefix
        limiter = RedisLimiter(settings.redis_url, prefix=prefix + "lim:")
        reservations = RedisReservations(settings.redis_url, prefix=prefix + "res:")
    else:
        limiter, reservations = MemoryLimiter(), MemoryReservations()
    access = AccessResolver(db)

    def balance(org_id: str) -> int:
        with db.session() as session:
            return wallet_balance(session, org_id)

    rules = RuleBook(db)
    admission = Admission(
        access=access,
        limiter=limiter,
        reservations=reservations,
        recorder=UsageRecorder(db),
        rules=rules,
        wallet_balance=balance,
    )

    def on_action(events: list[dict[str, Any]]) -> None:
        apply_rule_actions(db, events)
        access.invalidate()

    rules.on_action = on_action
    return GatewayState(admission=admission, pool=BackendPool(db), max_body_bytes=settings.max_request_bytes)


def random_prefix() -> str:
    """A Redis key prefix unique to one test or benchmark run."""
    return f"vc-test-{secrets.token_hex(4)}:"
