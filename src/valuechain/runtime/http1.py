"""A lean HTTP/1.1 keep-alive client for the hot path: one JSON POST, whole answer (httptools parser).

aiohttp's per-request machinery (request and response objects, timers, cookie jar, payload registry) cost
more than the rest of the gateway's admission and metering together at concurrency 1. Non-streamed
backend calls use this pool of raw asyncio connections instead; streams and GETs stay on aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from urllib.parse import urlsplit

import httptools


class ConnectionLostError(ConnectionError):
    """The server closed the connection before answering."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; answers one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.received = False
        self.closed = False
        self.keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionLostError("the backend closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.keep_alive = False
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_exception(ConnectionLostError(f"malformed HTTP answer: {exc}"))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((self._parser.get_status_code(), b"".join(self._body)))

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Send ``data`` (a whole request); the future resolves to (status, body)."""
        assert self.transport is not None
        self._body = []
        self.received = False
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Http1Pool:
    """Keep-alive connections to one origin; ``post`` sends a JSON body and returns (status, body).

    A request that finds its reused connection closed before any answer byte is sent once more on a
    fresh connection (the usual stale keep-alive race); once the server began answering it never is.
    """

    def __init__(self, origin: str, *, headers: dict[str, str], max_idle: int = 64) -> None:
        parts = urlsplit(origin)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        host_header = parts.netloc.rsplit("@", 1)[-1]
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "content-length")
        self._head = f"host: {host_header}\r\n{extra}".encode("latin-1")
        self._idle: deque[_Connection] = deque()
        self._max_idle = max_idle
        self._ssl: ssl.SSLContext | None = ssl.create_default_context() if self._https else None

    async def _connect(self, timeout_s: float) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout_s):
            _, conn = await loop.create_connection(
                _Connection,
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl else None,
            )
        return conn

    async def post(
        self,
        path: str,
        body: bytes,
        *,
        timeout_s: float,
        connect_timeout_s: float,
        request_id: str | None = None,
    ) -> tuple[int, bytes]:
        """POST ``body`` to ``path`` on the origin within ``timeout_s`` (with ``x-request-id`` if given)."""
        traced = f"x-request-id: {request_id}\r\n" if request_id else ""
        data = (
            f"POST {path} HTTP/1.1\r\ncontent-length: {len(body)}\r\n{traced}".encode("latin-1")
            + self._head
            + b"\r\n"
            + body
        )
        async with asyncio.timeout(timeout_s):
            while self._idle:
                conn = self._idle.pop()
                if conn.closed:
                    continue
                try:
                    return self._done(conn, await conn.request(data))
                except ConnectionLostError:
                    conn.close()
                    if conn.received:  # the server began to answer: do not send the request twice
                        raise
                except BaseException:
                    conn.close()
                    raise
            conn = await self._connect(connect_timeout_s)
            try:
                return self._done(conn, await conn.request(data))
            except BaseException:
                conn.close()
                raise

    def _done(self, conn: _Connection, answer: tuple[int, bytes]) -> tuple[int, bytes]:
        if conn.keep_alive and not conn.closed and len(self._idle) < self._max_idle:
            self._idle.append(conn)
        else:
            conn.close()
        return answer

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
