"""Durable metering with group commit: each request awaits the commit of the batch holding its usage
record, ledger entries and request log, so the record is durable before the response completes, and
concurrent requests share one transaction (one small write per request, amortised).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON

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
        self._sql = _Sql(sqlite=db.is_sqlite)
        self._conn: Any = None  # the writer thread's own connection

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
        """One transaction for the whole batch on the writer's own DBAPI connection, as pre-written SQL
        (SQLAlchemy's per-statement overhead cost several times the SQLite commit itself)."""
        usage = [e.usage for e in entries]
        charges = [e.charge for e in entries if e.charge is not None and e.charge.cost > 0]
        logs = [e.request_log for e in entries if e.request_log is not None]
        events = [ev for e in entries for ev in e.events]
        sql = self._sql
        if self._conn is None:
            self._conn = self._db.engine.raw_connection()
        conn = self._conn
        cur = conn.cursor()
        try:
            if sql.sqlite:
                cur.execute("BEGIN IMMEDIATE")
            cur.executemany(sql.usage, [sql.row(u) for u in usage])
            if charges:
                _write_charges(cur, sql, charges, {u["id"]: u for u in usage})
            if logs:
                cur.executemany(sql.log, [sql.row(r) for r in logs])
            if events:
                cur.executemany(sql.event, [sql.row(r) for r in events])
            if sql.sqlite:
                cur.execute("COMMIT")
            else:
                conn.commit()
        except BaseException:
            self._conn = None
            try:
                if sql.sqlite:
                    cur.execute("ROLLBACK")
                else:
                    conn.rollback()
            finally:
                conn.invalidate()
            raise
        finally:
            cur.close()

    async def close(self) -> None:
        """Let queued entries commit, then stop."""
        if self._queue is not None and self._task is not None:
            while not self._queue.empty():
                await asyncio.sleep(0.01)
            self._task.cancel()
        self._pool.submit(self._release).result()
        self._pool.shutdown(wait=True)

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _write_charges(
    cur: Any, sql: _Sql, charges: list[Charge], usage_by_tx: dict[str, dict[str, Any]]
) -> None:
    txs: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    deltas: dict[str, int] = {}
    for c in charges:
        u = usage_by_tx.get(c.transaction_id.removeprefix("usage:"), {})
        memo = f"{u.get('endpoint', '')} {u.get('model', '')}"[:500]
        txs.append(
            sql.row(
                {
                    "id": c.transaction_id,
                    "idempotency_key": c.transaction_id,
                    "kind": "usage",
                    "org_id": u.get("org_id"),
                    "memo": memo,
                    "created_at": u.get("created_at"),
                }
            )
        )
        entries.append(
            {"transaction_id": c.transaction_id, "account_id": c.wallet_account_id, "amount": -c.cost}
        )
        entries.append(
            {"transaction_id": c.transaction_id, "account_id": c.revenue_account_id, "amount": c.cost}
        )
        deltas[c.wallet_account_id] = deltas.get(c.wallet_account_id, 0) - c.cost
        deltas[c.revenue_account_id] = deltas.get(c.revenue_account_id, 0) + c.cost
    cur.executemany(sql.tx, txs)
    cur.executemany(sql.entry, entries)
    cur.executemany(sql.balance, [{"id": k, "delta": v} for k, v in deltas.items()])


class _Sql:
    """INSERT/UPDATE statements of the metering batch in the driver's parameter style."""

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.usage = self._insert(UsageRecord.__table__)
        self.log = self._insert(RequestLog.__table__)
        self.event = self._insert(MisuseEvent.__table__)
        self.tx = self._insert(LedgerTransaction.__table__)
        entry_cols = ["transaction_id", "account_id", "amount"]
        self.entry = self._insert(LedgerEntry.__table__, entry_cols)
        self.balance = (
            f"UPDATE {LedgerAccount.__tablename__} SET balance = balance + {self._p('delta')} "
            f"WHERE id = {self._p('id')}"
        )
        self._json = {
            c.name
            for t in (RequestLog.__table__, MisuseEvent.__table__)
            for c in t.columns
            if isinstance(c.type, JSON)
        }

    def _p(self, name: str) -> str:
        return f":{name}" if self.sqlite else f"%({name})s"

    def _insert(self, table: Any, columns: list[str] | None = None) -> str:
        cols = columns or [c.name for c in table.columns]
        return f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(self._p(c) for c in cols)})"

    def row(self, values: dict[str, Any]) -> dict[str, Any]:
        """Values as the driver takes them: JSON as text, UTC datetimes as SQLAlchemy stores them."""
        out = {}
        for k, v in values.items():
            if isinstance(v, datetime):
                v = v.astimezone(UTC)
                if self.sqlite:
                    v = v.strftime("%Y-%m-%d %H:%M:%S.%f")
            elif k in self._json and v is not None:
                v = orjson.dumps(v, default=str).decode()
            out[k] = v
        return out
