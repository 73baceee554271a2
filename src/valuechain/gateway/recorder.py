"""Durable metering with group commit: each request awaits the commit of the batch holding its usage
record, ledger entries, request log and misuse events, so the record is durable before the response
completes, and concurrent requests share one transaction (one small write per request, amortised).

The batch writer owns the transaction; each row is written by its table's owner: usage records and request
logs here, ledger postings by ``market.ledger.post_usage_charges``, misuse events by
``oversight.service.insert_events``.

On SQLite, the only request in flight commits its entry inline on the event loop's own connection when
the writer is idle, without waiting for the SQLite lock (``busy_timeout`` 0: a locked database falls back
to the queue): at concurrency 1 this saves two thread hand-offs per request, and the loop has nothing else
to do meanwhile. Concurrent requests share the writer's batches (inline commits would forgo batching).
The metering connections never checkpoint the WAL themselves (a checkpoint fsyncs): the writer thread
checkpoints every ``CHECKPOINT_EVERY`` entries, off the request path.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from valuechain.core.bulk import BulkSql
from valuechain.core.db import Database
from valuechain.gateway.models import RequestLog, UsageRecord
from valuechain.gateway.records import Entry
from valuechain.market.ledger import post_usage_charges
from valuechain.oversight.service import insert_events

log = logging.getLogger("valuechain.gateway")

_USAGE, _LOG = UsageRecord.__table__, RequestLog.__table__
CHECKPOINT_EVERY = 2000  # entries between WAL checkpoints (SQLite's own default is ~1,000 pages)


class UsageRecorder:
    """A single writer thread that commits queued entries in batches."""

    def __init__(self, db: Database, *, max_batch: int = 512) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Entry, asyncio.Future[None]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-writer")
        self._sql = BulkSql(sqlite=db.is_sqlite)
        self._conn: Any = None  # the writer thread's own connection
        self._inline: Any = None  # the event loop's connection for inline commits (SQLite)
        self._busy = False  # a batch is being written by the writer thread
        self._since_checkpoint = 0

    def _ensure_started(self) -> asyncio.Queue[tuple[Entry, asyncio.Future[None]]]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue))
        return self._queue

    async def record(self, entry: Entry, *, alone: bool = False) -> None:
        """Commit ``entry`` (inline when ``alone`` in flight, else queued and awaited); raises on failure."""
        self._counted(1)
        idle = not self._busy and (self._queue is None or self._queue.empty())
        if alone and idle and self._sql.sqlite and self._write_inline(entry):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ensure_started().put_nowait((entry, future))
        await future

    async def _run(self, queue: asyncio.Queue[tuple[Entry, asyncio.Future[None]]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            self._busy = True
            try:
                await loop.run_in_executor(self._pool, self._write, [e for e, _ in batch])
            except Exception as exc:
                log.exception("usage batch of %d failed to commit", len(batch))
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            finally:
                self._busy = False
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    def _connect(self) -> Any:
        conn = self._db.engine.raw_connection()
        if self._sql.sqlite:
            conn.cursor().execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def _counted(self, entries: int) -> None:
        """Schedule a WAL checkpoint on the writer thread every ``CHECKPOINT_EVERY`` entries."""
        self._since_checkpoint += entries
        if self._sql.sqlite and self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            self._pool.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next round retries; SQLite's own readers keep working meanwhile
            log.warning("WAL checkpoint failed", exc_info=True)

    def _write(self, entries: list[Entry]) -> None:
        """The writer thread's batch, on its own DBAPI connection."""
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._commit(self._conn, entries)
        except BaseException:
            self._conn, conn = None, self._conn
            conn.invalidate()
            raise

    def _write_inline(self, entry: Entry) -> bool:
        """Commit one entry on the loop's connection unless SQLite is locked; False when it was."""
        if self._inline is None:
            self._inline = self._connect()
            self._inline.cursor().execute("PRAGMA busy_timeout=0")
        try:
            self._commit(self._inline, [entry])
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            self._inline, conn = None, self._inline
            conn.invalidate()
            raise
        except BaseException:
            self._inline, conn = None, self._inline
            conn.invalidate()
            raise
        return True

    def _commit(self, conn: Any, entries: list[Entry]) -> None:
        """One transaction for the entries, as pre-written SQL (SQLAlchemy's per-statement overhead cost
        several times the SQLite commit itself); rolled back on any error."""
        sql = self._sql
        cur = conn.cursor()
        try:
            if sql.sqlite:
                cur.execute("BEGIN IMMEDIATE")
            cur.executemany(sql.insert(_USAGE), [sql.record(_USAGE, e.usage) for e in entries])
            post_usage_charges(cur, sql, [e.charge for e in entries if e.charge is not None])
            logs = [sql.record(_LOG, e.request_log) for e in entries if e.request_log is not None]
            if logs:
                cur.executemany(sql.insert(_LOG), logs)
            insert_events(cur, sql, [ev for e in entries for ev in e.events])
            if sql.sqlite:
                cur.execute("COMMIT")
            else:
                conn.commit()
        except BaseException:
            try:
                if sql.sqlite:
                    cur.execute("ROLLBACK")
                else:
                    conn.rollback()
            except Exception:  # the connection is discarded by the caller anyway
                log.debug("rollback failed", exc_info=True)
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
        if self._inline is not None:
            self._inline.invalidate()  # closed for good: its pragmas must not reach the pool
            self._inline = None

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # closed for good: its pragmas must not reach the pool
            self._conn = None
