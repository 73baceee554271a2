"""The gateway's long-lived objects, built in the app lifespan and held on ``app.state.gateway``."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from valuechain.core import metrics
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.access import ACCESS_TABLES, AccessResolver
from valuechain.gateway.admission import Admission
from valuechain.gateway.invalidation import RedisInvalidations, TableVersionWatch
from valuechain.gateway.journal import Journal
from valuechain.gateway.recorder import UsageRecorder
from valuechain.gateway.serving_chat import OpenAIServingChat
from valuechain.gateway.serving_completion import OpenAIServingCompletion
from valuechain.gateway.serving_embedding import OpenAIServingEmbedding
from valuechain.gateway.serving_models import OpenAIServingModels, OpenAIServingTokenization
from valuechain.market.limits import Limiter, MemoryLimiter, RedisLimiter
from valuechain.market.reservations import MemoryReservations, RedisReservations, Reservations
from valuechain.oversight.rules import RuleBook
from valuechain.runtime.pool import BackendPool

log = logging.getLogger("valuechain.gateway")


@dataclass
class GatewayState:
    """Admission, backends, limits and the serving class of each endpoint, for one process."""

    admission: Admission
    pool: BackendPool
    max_body_bytes: int
    chat: OpenAIServingChat
    completion: OpenAIServingCompletion
    embedding: OpenAIServingEmbedding
    models: OpenAIServingModels
    tokenization: OpenAIServingTokenization
    invalidations: RedisInvalidations | None = None
    versions: TableVersionWatch | None = None
    unsubscribe: list[Callable[[], None]] = field(default_factory=list)

    housekeeping: asyncio.Task[None] | None = None

    async def start(self, db: Database, *, journal_scan_s: float = 30.0) -> None:
        """Start a serving process: replay metering entries a stopped process left in the journal, then
        the background tasks (journal scan, housekeeping, the invalidation listener, hold heartbeat)."""
        recorder, admission = self.admission.recorder, self.admission
        await recorder.recover()
        recorder.start_scan(every_s=journal_scan_s)
        metrics.watch(metrics.RECORDER_QUEUE, lambda: recorder.queue_depth)
        metrics.watch(metrics.JOURNAL_PENDING, lambda: recorder.journal.pending)
        metrics.watch(metrics.IN_FLIGHT, lambda: admission.in_flight)
        metrics.watch(metrics.HOLDS, lambda: admission.holds)
        await admission.reservations.start()
        self.start_housekeeping(db)
        if self.invalidations is not None:
            self.invalidations.start()
        if self.versions is not None:
            self.versions.start()

    def start_housekeeping(self, db: Database, *, every_s: float = 3600.0) -> None:
        """Purge expired request logs and renew monthly subscriptions now, then every ``every_s`` seconds."""

        async def loop() -> None:
            while True:
                await asyncio.to_thread(_purge_logs, db)
                await asyncio.to_thread(_renew_subscriptions, db)
                await asyncio.sleep(every_s)

        self.housekeeping = asyncio.get_running_loop().create_task(loop())

    async def close(self) -> None:
        if self.housekeeping is not None:
            self.housekeeping.cancel()
        if self.invalidations is not None:
            await self.invalidations.close()
        if self.versions is not None:
            await self.versions.close()
        for unsubscribe in self.unsubscribe:
            unsubscribe()
        await self.admission.recorder.close()
        await self.admission.limiter.close()
        await self.admission.reservations.close()
        await self.pool.close()


def build_gateway(settings: Settings, db: Database, *, redis_prefix: str | None = None) -> GatewayState:
    """Everything the /v1 surface needs; Redis-backed counters when ``VALUECHAIN_REDIS_URL`` is set."""
    limiter: Limiter
    reservations: Reservations
    invalidations = None
    access = AccessResolver(db)
    rules = RuleBook(db)
    unsubscribe_rules = db.on_commit(
        lambda tables: rules.invalidate() if "oversight_rules" in tables else None
    )
    if settings.redis_url:
        prefix = redis_prefix if redis_prefix is not None else settings.redis_key_prefix
        limiter = RedisLimiter(settings.redis_url, prefix=prefix + "lim:")
        reservations = RedisReservations(
            settings.redis_url, prefix=prefix + "res:", hold_ttl_s=settings.gateway_hold_ttl_s
        )
        invalidations = RedisInvalidations(
            settings.redis_url,
            channel=prefix + "access",
            on_remote=lambda: (access.invalidate(), rules.invalidate()),
        )
        access.on_invalidate.append(invalidations.publish)
    else:
        limiter, reservations = MemoryLimiter(), MemoryReservations()
    admission = Admission(
        db=db,
        access=access,
        limiter=limiter,
        reservations=reservations,
        recorder=UsageRecorder(db, Journal(settings.resolved_gateway_journal_dir)),
        rules=rules,
    )
    pool = BackendPool(db)

    def on_change(tables: frozenset[str]) -> None:  # committed by another process
        if tables & ACCESS_TABLES:
            access.invalidate()
        if "oversight_rules" in tables:
            rules.invalidate()

    return GatewayState(
        admission=admission,
        pool=pool,
        max_body_bytes=settings.max_request_bytes,
        chat=OpenAIServingChat(admission=admission, pool=pool),
        completion=OpenAIServingCompletion(admission=admission, pool=pool),
        embedding=OpenAIServingEmbedding(admission=admission, pool=pool),
        models=OpenAIServingModels(access=access),
        tokenization=OpenAIServingTokenization(access=access, pool=pool),
        invalidations=invalidations,
        versions=TableVersionWatch(db, on_change=on_change),
        unsubscribe=[access.close, unsubscribe_rules],
    )


def _purge_logs(db: Database) -> None:
    from valuechain.core.clock import utcnow
    from valuechain.gateway.logs import purge_expired

    try:
        with db.unit_of_work() as session:
            count = purge_expired(session, now=utcnow())
    except Exception:  # housekeeping must never take the server down; the next round retries
        log.exception("request-log purge failed")
        return
    if count:
        log.info("purged %d expired request logs", count)


def _renew_subscriptions(db: Database) -> None:
    from valuechain.market.subscriptions import renew_all

    try:
        with db.unit_of_work() as session:
            count = renew_all(session)
    except Exception:  # retried next round; renewals are idempotent per month
        log.exception("subscription renewal failed")
        return
    if count:
        log.info("renewed %d subscriptions", count)


def tune_gc_for_serving() -> None:
    """Freeze the start-up heap and collect less often, for a long-running server process.

    Measured at concurrency 32: full collections walking the whole start-up heap (FastAPI, SQLAlchemy,
    pydantic schemas) paused the process for ~120 ms about once a second — the entire p99. Frozen objects
    are skipped by the collector; cyclic garbage is still collected, later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


def random_prefix() -> str:
    """A Redis key prefix unique to one test or benchmark run."""
    return f"vc-test-{secrets.token_hex(4)}:"
