"""The lean keep-alive client: reuse, stale connections, chunked answers, errors and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from valuechain.runtime.base import BackendRequestError, BackendTimeoutError, BackendUnavailableError
from valuechain.runtime.http1 import ConnectionLostError, Http1Pool
from valuechain.runtime.remote import RemoteBackend

Answer = Callable[[bytes, int], bytes | None]


async def _serve(answer: Answer) -> tuple[asyncio.Server, list[bytes], list[int]]:
    """A server answering each request with ``answer(request, connection_number)`` (None: close)."""
    seen: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections) + 1)
        number = len(connections)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                request = head + await reader.readexactly(length)
                seen.append(request)
                out = answer(request, number)
                if out is None:
                    break
                writer.write(out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, seen, connections


def _ok(body: bytes, *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


@pytest.fixture
async def origin() -> AsyncIterator[Callable[[Answer], object]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> tuple[str, list[bytes], list[int]]:
        server, seen, connections = await _serve(answer)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}", seen, connections

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


async def test_reuses_one_connection_and_sends_headers(origin) -> None:  # type: ignore[no-untyped-def]
    url, seen, connections = await origin(lambda req, n: _ok(b'{"n": 1}'))
    pool = Http1Pool(url, headers={"authorization": "Bearer k"})
    for _ in range(3):
        assert await pool.post("/v1/x", b"{}", timeout_s=2, connect_timeout_s=1) == (200, b'{"n": 1}')
    assert connections == [1]
    assert seen[0].startswith(b"POST /v1/x HTTP/1.1\r\n") and b"authorization: Bearer k\r\n" in seen[0]
    pool.close()


async def test_chunked_answer_and_connection_close(origin) -> None:  # type: ignore[no-untyped-def]
    chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    url, _, connections = await origin(lambda req, n: chunked)
    pool = Http1Pool(url, headers={})
    assert await pool.post("/", b"", timeout_s=2, connect_timeout_s=1) == (200, b"abcde")
    assert await pool.post("/", b"", timeout_s=2, connect_timeout_s=1) == (200, b"abcde")
    assert connections == [1, 2]  # `connection: close` is honoured
    pool.close()


async def test_stale_keep_alive_is_retried_once_on_a_fresh_connection(origin) -> None:  # type: ignore[no-untyped-def]
    url, seen, connections = await origin(lambda req, n: _ok(b"ok") if len(seen) != 2 else None)
    pool = Http1Pool(url, headers={})
    assert await pool.post("/", b"1", timeout_s=2, connect_timeout_s=1) == (200, b"ok")
    assert await pool.post("/", b"2", timeout_s=2, connect_timeout_s=1) == (200, b"ok")  # 1st closed silently
    assert connections == [1, 2] and len(seen) == 3
    pool.close()


async def test_a_started_answer_is_never_sent_twice(origin) -> None:  # type: ignore[no-untyped-def]
    url, seen, _ = await origin(
        lambda req, n: b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc" if n > 1 else None
    )
    pool = Http1Pool(url, headers={})
    with pytest.raises(ConnectionLostError):
        await pool.post("/", b"x", timeout_s=2, connect_timeout_s=1)  # fresh connection closed: no retry
    assert len(seen) == 1
    pool.close()


async def test_remote_backend_maps_status_and_timeout(origin) -> None:  # type: ignore[no-untyped-def]
    error = b'{"error": {"message": "bad n"}}'
    url, _, _ = await origin(
        lambda req, n: (
            b"HTTP/1.1 400 Bad\r\ncontent-length: " + str(len(error)).encode() + b"\r\n\r\n" + error
        )
    )
    backend = RemoteBackend(base_url=f"{url}/v1", served_name="m")
    with pytest.raises(BackendRequestError, match="bad n"):
        await backend.chat({"messages": []})
    await backend.close()
    slow_url, _, _ = await origin(
        lambda req, n: b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
    )  # never ends
    slow = RemoteBackend(base_url=f"{slow_url}/v1", served_name="m", timeout_s=0.2)
    with pytest.raises(BackendTimeoutError):
        await slow.chat({"messages": []})
    await slow.close()


async def test_closed_without_answer_is_unavailable(origin) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = await origin(lambda req, n: None)
    backend = RemoteBackend(base_url=f"{url}/v1", served_name="m")
    with pytest.raises(BackendUnavailableError):
        await backend.chat({"messages": []})
    await backend.close()
