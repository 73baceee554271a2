"""Access-cache drops shared between processes: table versions polled from the database, and Redis pub/sub.

A commit that changes access (a key revoked, an org suspended, an entitlement revoked) drops this
process's cache at once (``Database.on_commit``). The same transaction bumps the changed tables' rows in
``table_versions`` (``core.db``), whichever process commits it (another replica, the CLI);
:class:`TableVersionWatch` reads those rows every ``interval_s`` (20 ms) and drops this process's caches
when one moved, so a revocation reaches every replica within about that (issue 17: within 100 ms).
With Redis, :meth:`RedisInvalidations.publish` also tells the other gateways at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

from valuechain.core.db import Database, TableVersion

log = logging.getLogger("valuechain.gateway")


class TableVersionWatch:
    """Calls ``on_change`` with the watched tables whose version moved since the last read.

    The read is one small query on a connection of its own, without the ORM: on SQLite it runs on the event
    loop itself (tens of microseconds, where a hand-off to a thread cost more than the query and traded the
    interpreter lock with the requests being served); on PostgreSQL, a round trip, in a thread.
    """

    def __init__(
        self, db: Database, *, on_change: Callable[[frozenset[str]], None], interval_s: float = 0.02
    ) -> None:
        self._db = db
        self._on_change = on_change
        self.interval_s = interval_s
        self._seen: dict[str, int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None

    def poll(self) -> None:
        """Read the versions once (blocking); the first read only sets the baseline."""
        versions = self._read()
        seen, self._seen = self._seen, versions
        if seen is not None:
            changed = frozenset(t for t, v in versions.items() if seen.get(t) != v)
            if changed:
                self._on_change(changed)

    def _read(self) -> dict[str, int]:
        if self._conn is None:
            self._conn = self._db.engine.raw_connection()
        try:
            cur = self._conn.cursor()
            cur.execute(_READ)
            rows = cur.fetchall()
            cur.close()
            self._conn.rollback()  # no snapshot kept open between reads
        except BaseException:
            self._release()
            raise
        return {name: int(version) for name, version in rows}

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def start(self) -> None:
        """Poll in the running event loop (called from the app's lifespan)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        inline = self._db.is_sqlite
        while True:
            try:
                if inline:
                    self.poll()
                else:
                    await asyncio.to_thread(self.poll)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: keep polling; the cache's TTL still bounds staleness
                log.warning("could not read table versions", exc_info=True)
            await asyncio.sleep(self.interval_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._release()


_READ = f"SELECT table_name, version FROM {TableVersion.__tablename__}"


class RedisInvalidations:
    """Publishes this process's cache drops and applies the other processes' drops."""

    def __init__(self, url: str, *, channel: str, on_remote: Callable[[], None]) -> None:
        import redis

        self._url = url
        self._channel = channel
        self._on_remote = on_remote
        self._origin = secrets.token_hex(8).encode()
        self._publisher: Any = redis.Redis.from_url(url)  # commit hooks run in synchronous code
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def publish(self) -> None:
        """Tell the other processes to drop their caches (best effort: their TTL bounds a lost message)."""
        try:
            self._publisher.publish(self._channel, self._origin)
        except Exception:  # a Redis outage must not fail the commit that already happened
            log.warning("could not publish an access-cache invalidation", exc_info=True)

    def start(self) -> None:
        """Listen in the running event loop (called from the app's lifespan)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client: Any = aioredis.from_url(self._url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message" and message.get("data") != self._origin:
                            self._on_remote()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("access-cache invalidation listener lost Redis; retrying", exc_info=True)
                self._on_remote()  # messages may have been missed
                await asyncio.sleep(1.0)
            finally:
                await client.aclose()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._publisher.close()
