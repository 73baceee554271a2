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
