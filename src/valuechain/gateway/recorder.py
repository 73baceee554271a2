"""Metering after the response, with nothing lost: each request's entry (usage record, ledger entries,
request log, misuse events) is appended to the settlement journal (``journal.py``) before the response is
sent, and committed to the database by a single writer thread in batches (group commit) while the
response goes out. A failed commit is retried with back-off and stays in the journal meanwhile; entries a
stopped process could not commit are replayed by the next one, and by every live process sharing the
journal directory, which looks for such segments every ``scan_s`` (a killed replica's entries are committed
by a surviving sibling within that time; on another machine, by the next process started there).

The writer owns the transaction; each row is stated by its table's owner: usage records and request
logs here, ledger postings by ``market.ledger.usage_charge_statements``, misuse events by
``oversight.service.event_statements``. The statements are built on the event loop and only executed on
the writer's thread, as multi-row inserts (fewer hand-offs of the interpreter lock while requests are being
served). The writer lingers ``LINGER_MIN_S``, and while other requests are in flight up to ``LINGER_S``, for
their entries to join its batch: nobody waits for a commit, and each batch costs lock hand-offs.

Until its entry commits, a request's charge is *pending*: balance loaders subtract ``pending_charges``, so
a wallet mirror reloaded meanwhile never counts money twice.

The metering connection never checkpoints the SQLite WAL itself (a checkpoint fsyncs): the writer thread
checkpoints every ``CHECKPOINT_EVERY`` entries, between batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from valuechain.core.bulk import BulkSql, Statements
from valuechain.core.db import Database
from valuechain.core.metrics import COST, REPLAYED, TOKENS, USAGE
from valuechain.gateway.journal import Journal, Segment
from valuechain.gateway.models import RequestLog, UsageRecord
from valuechain.gateway.records import Entry
from valuechain.market.ledger import usage_charge_statements
from valuechain.oversight.service import event_statements

log = logging.getLogger("valuechain.gateway")

_USAGE, _LOG = UsageRecord.__table__, RequestLog.__table__
CHECKPOINT_EVERY = 2000  # entries between WAL checkpoints (SQLite's own default is ~1,000 pages)
LINGER_S = 0.02  # longest wait for the entries of requests in flight to join a batch
LINGER_MIN_S = 0.002  # always: even one request at a time then commits a few per batch
POLL_S = 0.001
RETRY_MAX_S = 5.0  # longest wait between two tries of a failed commit


@dataclass(slots=True)
class _Item:
    entry: Entry
    segment: Segment | None  # None: not journaled (the journal failed); the request awaits the commit
    future: asyncio.Future[None]


class UsageRecorder:
    """The journal, and a single writer thread that commits its entries in batches."""

    def __init__(
        self, db: Database, journal: Journal, *, max_batch: int = 512, linger_s: float = LINGER_S
    ) -> None:
        self._db = db
        self._linger_s = linger_s
        self.in_flight: Callable[[], int] = lambda: 0  # requests admitted, not yet settled (set by Admission)
        self.journal = journal
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-writer")
        self._sql = BulkSql(sqlite=db.is_sqlite)
        self._conn: Any = None  # the writer thread's own connection
        self._since_checkpoint = 0
        self._pending_charges: dict[str, int] = {}  # payer account → amount not yet committed
        self._outstanding: set[asyncio.Future[None]] = set()
        self._scan: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        """Entries waiting for the writer (a metric)."""
        return self._queue.qsize() if self._queue is not None else 0

    def start_scan(self, *, every_s: float) -> None:
        """Replay, every ``every_s``, the segments of processes that stopped since (``recover``)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(every_s)
                try:
                    await self.recover()
                except Exception:  # the next round retries; serving goes on
                    log.exception("journal scan failed")

        self._scan = asyncio.get_running_loop().create_task(loop())

    def _ensure_started(self) -> asyncio.Queue[_Item]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue))
        return self._queue

    def submit(self, entry: Entry) -> tuple[asyncio.Future[None], bool]:
        """Journal ``entry`` and queue it for the writer: the future resolves once it is committed, and the
        flag says whether it is journaled (else the caller must await the commit before answering)."""
        try:
            segment: Segment | None = self.journal.append(entry)
        except OSError:
            log.exception("settlement journal append failed; committing before the response instead")
            segment = None
        return self._enqueue(entry, segment), segment is not None

    def _enqueue(self, entry: Entry, segment: Segment | None) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outstanding.add(future)
        future.add_done_callback(self._outstanding.discard)
        self._pend(entry, +1)
        self._ensure_started().put_nowait(_Item(entry, segment, future))
        return future

    def _pend(self, entry: Entry, sign: int) -> None:
        """Count ``entry``'s charge as pending (+1) or committed (-1)."""
        charge = entry.charge
        if charge is None or charge.amount <= 0:
            return
        account = charge.payer_account_id
        left = self._pending_charges.get(account, 0) + sign * charge.amount
        if left > 0:
            self._pending_charges[account] = left
        else:
            self._pending_charges.pop(account, None)

    def pending_charges(self, account_id: str | None) -> int:
        """What this process has charged ``account_id`` and not yet committed."""
        return self._pending_charges.get(account_id, 0) if account_id else 0

    async def flush(self) -> None:
        """Wait until every entry submitted so far is committed (read-your-writes for this process)."""
        outstanding = list(self._outstanding)
        if outstanding:
            await asyncio.shield(asyncio.gather(*outstanding, return_exceptions=True))

    async def recover(self) -> int:
        """Queue the entries of journal segments left by stopped processes that the database lacks."""
        queued = 0
        for segment, entries in self.journal.orphans():
            committed = await asyncio.to_thread(self._committed_ids, [e.usage.id for e in entries])
            todo = [e for e in entries if e.usage.id not in committed]
            log.warning(
                "replaying %d of %d metering entries from %s", len(todo), len(entries), segment.path.name
            )
            segment.pending = len(todo) + 1  # held until the loop below has queued them all
            REPLAYED.inc(len(todo))
            for entry in todo:
                self._enqueue(entry, segment)
            self.journal.committed(segment)
            queued += len(todo)
        return queued

    def _committed_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        conn = self._db.engine.raw_connection()
        try:
            cur = conn.cursor()
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ", ".join(self._sql.param(f"p{n}") for n in range(len(chunk)))
                cur.execute(
                    f"SELECT id FROM {_USAGE.name} WHERE id IN ({marks})",
                    {f"p{n}": v for n, v in enumerate(chunk)},
                )
                found.update(row[0] for row in cur.fetchall())
            cur.close()
            conn.rollback()
        finally:
            conn.close()
        return found

    async def _run(self, queue: asyncio.Queue[_Item]) -> None:
        retry: list[_Item] = []
        delay = 0.0
        while True:
            if retry:
                await asyncio.sleep(delay)
                batch, retry = retry, []
            else:
                batch = [await queue.get()]
                await self._linger(queue)
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._commit_items(batch)
            except Exception:
                log.exception("metering batch of %d failed to commit; retrying", len(batch))
                retry = await self._one_by_one(batch) if len(batch) > 1 else batch
                delay = min(max(delay * 2, 0.1), RETRY_MAX_S)
                continue
            delay = 0.0
            self._done(batch)

    async def _commit_items(self, items: list[_Item]) -> None:
        """Commit the items' entries in one transaction on the writer thread (statements built here)."""
        statements = self._statements([i.entry for i in items])
        await asyncio.get_running_loop().run_in_executor(self._pool, self._write, statements)

    async def _linger(self, queue: asyncio.Queue[_Item]) -> None:
        """Wait ``LINGER_MIN_S``, then while requests in flight may still add entries, up to ``LINGER_S``."""
        waited = 0.0
        while waited < self._linger_s and queue.qsize() + 1 < self._max_batch:
            if waited >= LINGER_MIN_S and self.in_flight() == 0:
                return
            await asyncio.sleep(POLL_S)
            waited += POLL_S

    async def _one_by_one(self, batch: list[_Item]) -> list[_Item]:
        """Commit a failed batch entry by entry (one bad entry holds up no other); returns the failed."""
        failed = []
        for item in batch:
            try:
                await self._commit_items([item])
            except Exception:
                log.exception("metering entry %s failed to commit; kept for retry", item.entry.usage.id)
                failed.append(item)
            else:
                self._done([item])
        return failed

    def _done(self, batch: list[_Item]) -> None:
        """Committed: the journal lines are reclaimable, the charges no longer pending."""
        self._counted(len(batch))
        for item in batch:
            if item.segment is not None:
                self.journal.committed(item.segment)
            self._pend(item.entry, -1)
            if not item.future.done():
                item.future.set_result(None)
            _meter(item.entry)

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

    def _statements(self, entries: list[Entry]) -> Statements:
        """The batch's rows as pre-written SQL (SQLAlchemy's per-statement overhead cost several times the
        SQLite commit itself), each table's by its owner."""
        sql = self._sql
        statements = sql.insert_records(_USAGE, [e.usage for e in entries])
        statements += usage_charge_statements(sql, [e.charge for e in entries if e.charge is not None])
        statements += sql.insert_records(_LOG, [e.request_log for e in entries if e.request_log is not None])
        statements += event_statements(sql, [ev for e in entries for ev in e.events])
        return statements

    def _write(self, statements: Statements) -> None:
        """The writer thread's batch, on its own DBAPI connection."""
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._commit(self._conn, statements)
        except BaseException:
            self._conn, conn = None, self._conn
            conn.invalidate()
            raise

    def _commit(self, conn: Any, statements: Statements) -> None:
        """One transaction for the statements; rolled back on any error."""
        sqlite = self._sql.sqlite
        cur = conn.cursor()
        try:
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            for statement, params in statements:
                if isinstance(params, tuple):
                    cur.execute(statement, params)
                elif params:
                    cur.executemany(statement, params)
            if sqlite:
                cur.execute("COMMIT")
            else:
                conn.commit()
        except BaseException:
            try:
                if sqlite:
                    cur.execute("ROLLBACK")
                else:
                    conn.rollback()
            except Exception:  # the connection is discarded by the caller anyway
                log.debug("rollback failed", exc_info=True)
            raise
        finally:
            cur.close()

    async def close(self, *, timeout_s: float = 10.0) -> None:
        """Let queued entries commit (for up to ``timeout_s``), then stop; what is left stays journaled."""
        if self._scan is not None:
            self._scan.cancel()
        if self._outstanding:
            try:
                await asyncio.wait_for(self.flush(), timeout_s)
            except TimeoutError:
                log.error("%d metering entries not committed at shutdown", len(self._outstanding))
        if self._task is not None:
            self._task.cancel()
        self._pool.submit(self._release).result()
        self._pool.shutdown(wait=True)
        self.journal.close()

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # closed for good: its pragmas must not reach the pool
            self._conn = None


_METERS: dict[tuple[str, int, str], tuple[Any, Any, Any, Any]] = {}


def _meter(entry: Entry) -> None:
    """Tokens, cost and records per model of a committed entry (Prometheus, ``core.metrics``); the
    labelled children are cached (``labels`` takes a lock and builds its key on every call)."""
    usage = entry.usage
    key = (usage.model, usage.status, usage.currency)
    meters = _METERS.get(key)
    if meters is None:
        meters = (
            USAGE.labels(usage.model, str(usage.status)),
            TOKENS.labels(usage.model, "prompt"),
            TOKENS.labels(usage.model, "completion"),
            COST.labels(usage.model, usage.currency),
        )
        if len(_METERS) < 10_000:
            _METERS[key] = meters
    meters[0].inc()
    if usage.prompt_tokens:
        meters[1].inc(usage.prompt_tokens)
    if usage.completion_tokens:
        meters[2].inc(usage.completion_tokens)
    if usage.cost:
        meters[3].inc(usage.cost)
