"""Access-cache drops shared between processes over Redis pub/sub.

A commit that changes access (a key revoked, an org suspended, an entitlement revoked) drops this
process's cache at once (``Database.on_commit``); :meth:`RedisInvalidations.publish` tells the other
processes, whose listener drops theirs. Without Redis the other processes see the change within the
cache's TTL. A commit made by a process with no gateway (the CLI) publishes nothing: TTL there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

log = logging.getLogger("valuechain.gateway")


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
