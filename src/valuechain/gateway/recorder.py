"""Durable metering with group commit: each request awaits the commit of the batch holding its usage
record, ledger entries and request log, so the record is durable before the response completes, and
concurrent requests share one transaction (one small write per request, amortised).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update

from valuechain.core.db import Database
from valuechain.gateway.models import RequestLog, UsageRecord
from valuechain.market.models import LedgerAccount, LedgerEntry, LedgerTransaction
from valuechain.oversight.models import MisuseEvent

log = logging.getLogger("valuechain.gateway")


@dataclass(slots=True)
class Charge:
    """A usage charge: ``cost`` moves from the payer's wallet to the provider's revenue."""

    transaction_id: str
    wallet_account_id: str
    revenue_account_id: str
    cost: int


@dataclass(slots=True)
class Entry:
    """Everything one request writes."""

    usage: dict[str, Any]
    charge: Charge | None = None
    request_log: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class UsageRecorder:
    """A single writer thread that commits queued entries in batches."""

    def __init__(self, db: Database, *, max_batch: int = 512) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Entry, asyncio.Future[None]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-writer")

    def _ensure_started(self) -> asyncio.Queue[tuple[Entry, asyncio.Future[None]]]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue))
        return self._queue

    async def record(self, entry: Entry) -> None:
        """Queue ``entry`` and wait until it is committed (raises if the commit failed)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ensure_started().put_nowait((entry, future))
        await future

    async def _run(self, queue: asyncio.Queue[tuple[Entry, asyncio.Future[None]]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await loop.run_in_executor(self._pool, self._write, [e for e, _ in batch])
            except Exception as exc:
                log.exception("usage batch of %d failed to commit", len(batch))
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    def _write(self, entries: list[Entry]) -> None:
        usage = [e.usage for e in entries]
        charges = [e.charge for e in entries if e.charge is not None and e.charge.cost > 0]
        logs = [e.request_log for e in entries if e.request_log is not None]
        events = [ev for e in entries for ev in e.events]
        with self._db.unit_of_work() as session:
            conn = session.connection()
            conn.execute(insert(UsageRecord), usage)
            if charges:
                _write_charges(conn, charges, {u["id"]: u for u in usage})
            if logs:
                conn.execute(insert(RequestLog), logs)
            if events:
                conn.execute(insert(MisuseEvent), events)

    async def close(self) -> None:
        """Let queued entries commit, then stop."""
        if self._queue is not None and self._task is not None:
            while not self._queue.empty():
                await asyncio.sleep(0.01)
            self._task.cancel()
        self._pool.shutdown(wait=True)


def _write_charges(conn: Any, charges: list[Charge], usage_by_tx: dict[str, dict[str, Any]]) -> None:
    txs, entries, deltas = [], [], {}
    for c in charges:
        u = usage_by_tx.get(c.transaction_id.removeprefix("usage:"), {})
        txs.append(
            {
                "id": c.transaction_id,
                "idempotency_key": c.transaction_id,
                "kind": "usage",
                "org_id": u.get("org_id"),
                "memo": f"{u.get('endpoint', '')} {u.get('model', '')}"[:500],
                "created_at": u.get("created_at"),
            }
        )
        entries.append(
            {"transaction_id": c.transaction_id, "account_id": c.wallet_account_id, "amount": -c.cost}
        )
        entries.append(
            {"transaction_id": c.transaction_id, "account_id": c.revenue_account_id, "amount": c.cost}
        )
        deltas[c.wallet_account_id] = deltas.get(c.wallet_account_id, 0) - c.cost
        deltas[c.revenue_account_id] = deltas.get(c.revenue_account_id, 0) + c.cost
    conn.execute(insert(LedgerTransaction), txs)
    conn.execute(insert(LedgerEntry), entries)
    for account_id, delta in deltas.items():
        conn.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account_id)
            .values(balance=LedgerAccount.balance + delta)
        )
