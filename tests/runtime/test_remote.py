"""The remote adapter against the bench's fake OpenAI server, and when its backend is down."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from valuechain.runtime.base import BackendUnavailableError
from valuechain.runtime.remote import RemoteBackend

FAKE = Path(__file__).resolve().parents[2] / "bench" / "fake_backend.py"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, str(FAKE), str(port)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=5)


async def test_chat_and_health(fake_url: str) -> None:
    backend = RemoteBackend(base_url=fake_url, served_name="fake", api_key="secret-credential")
    r = await backend.chat({"model": "ignored", "messages": [{"role": "user", "content": "x"}]})
    assert r["usage"]["total_tokens"] == 19
    assert await backend.health()
    await backend.close()


async def test_down_backend_is_503_without_credential_in_message() -> None:
    backend = RemoteBackend(
        base_url=f"http://127.0.0.1:{_port()}/v1",
        served_name="m",
        api_key="s3cr3t-cred",
        timeout_s=2,
        connect_timeout_s=1,
    )
    with pytest.raises(BackendUnavailableError) as info:
        await backend.chat({"messages": []})
    assert info.value.status_code == 503 and "s3cr3t" not in info.value.message
    assert not await backend.health()
    await backend.close()


async def test_down_backend_fails_fast_until_retry(fake_url: str) -> None:
    backend = RemoteBackend(base_url=f"http://127.0.0.1:{_port()}/v1", served_name="m", timeout_s=2)
    with pytest.raises(BackendUnavailableError):
        await backend.chat({"messages": []})
    with pytest.raises(BackendUnavailableError, match="down"):  # refused without trying to connect
        await backend.chat({"messages": []})
    await backend.close()


async def test_the_request_id_is_sent_to_the_backend() -> None:
    """Whole answers (the lean HTTP/1.1 client) and streams (aiohttp) carry ``x-request-id``."""
    import asyncio

    from valuechain.core.observe import REQUEST_ID

    heads: list[str] = []
    chat = b'{"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}'
    sse = b'data: {"choices": [{"index": 0, "delta": {"content": "x"}}]}\n\ndata: [DONE]\n\n'

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = int(
            next(h.split(":")[1] for h in head.split("\r\n") if h.lower().startswith("content-length"))
        )
        body = await reader.readexactly(length)
        heads.append(head.lower())
        payload, kind = (
            (sse, b"text/event-stream")
            if b'"stream": true' in body or b'"stream":true' in body
            else (chat, b"application/json")
        )
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: "
            + kind
            + b"\r\ncontent-length: "
            + str(len(payload)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + payload
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backend = RemoteBackend(base_url=f"http://127.0.0.1:{port}/v1", served_name="m")
    token = REQUEST_ID.set("req_traced")
    try:
        await backend.chat({"messages": []})
        assert [c async for c in backend.chat_stream({"messages": []})]
    finally:
        REQUEST_ID.reset(token)
        await backend.close()
        server.close()
    assert len(heads) == 2 and all("x-request-id: req_traced\r\n" in h for h in heads)
