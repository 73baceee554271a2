"""A small closed-loop HTTP/1.1 load generator (keep-alive connections, raw asyncio) for the benchmarks."""

from __future__ import annotations

import asyncio
import json
import time


async def _worker(
    host: str, port: int, request: bytes, until: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def chat_request(path: str, host: str, key: str | None, model: str) -> bytes:
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}
    ).encode()
    auth = f"authorization: Bearer {key}\r\n".encode() if key else b""
    return (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n".encode()
        + auth
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )


async def run(
    port: int, request: bytes, *, concurrency: int, seconds: float, warmup: float = 1.0
) -> dict[str, float]:
    """Requests/s and latency percentiles (ms) of ``concurrency`` connections for ``seconds``."""
    await asyncio.gather(
        *[
            _worker("127.0.0.1", port, request, time.perf_counter() + warmup, [], [])
            for _ in range(concurrency)
        ]
    )
    latencies: list[float] = []
    errors: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(
        *[_worker("127.0.0.1", port, request, start + seconds, latencies, errors) for _ in range(concurrency)]
    )
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": len(errors),
        "rps": n / elapsed,
        "p50_ms": latencies[n // 2] * 1000,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000,
    }
