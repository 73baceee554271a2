"""CPU and wall time per /v1/chat/completions request with the ASGI app called in process.

No HTTP server or load generator between: the app (lifespan included) is called directly, and a request
counts as done when its response is complete (what the app does after, such as the metering commit, goes
on meanwhile and is included in the CPU time); the backend is bench/fake_backend.py over loopback. Less noisy than gateway_bench.py on a shared machine, for comparing two
source trees: run it alternately with PYTHONPATH pointing at each.

Usage: PYTHONPATH=src .venv/bin/python bench/gateway_inprocess.py [N] [--cprofile]
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import gateway_bench as gb  # noqa: E402


async def _exercise(app: Any, key: str, n: int, cprofile: bool) -> dict[str, float]:
    body = json.dumps(
        {
            "model": "bench-provider/fake",
            "messages": [{"role": "user", "content": "Say hello."}],
            "max_tokens": 16,
        }
    ).encode()
    headers = [
        (b"host", b"x"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    path = "/v1/chat/completions"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST"}
    scope |= {"scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": ""}
    scope |= {"headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}

    running: set[asyncio.Task[None]] = set()

    async def one() -> int:
        """One request, until its response is complete (as a client sees it, and as uvicorn then takes
        the connection's next request); what the app does after that goes on in the background."""
        sent, status = False, []
        done = asyncio.get_running_loop().create_future()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif not message.get("more_body") and not done.done():
                done.set_result(None)

        task = asyncio.create_task(app(dict(scope), receive, send))
        running.add(task)
        task.add_done_callback(running.discard)
        await asyncio.wait([done, task], return_when=asyncio.FIRST_COMPLETED)
        return status[0]

    lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await lifespan_in.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, lifespan_in.get, lifespan_out.put)
    )
    await lifespan_out.get()
    for _ in range(300):  # warm-up
        assert await one() == 200
    profile = None
    if cprofile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await one()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    result = {"requests": n, "cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6}
    if profile is not None:
        import pstats

        profile.disable()
        result["calls_per_request"] = pstats.Stats(profile).total_calls / n  # type: ignore[attr-defined]
    await asyncio.gather(*running)
    await lifespan_in.put({"type": "lifespan.shutdown"})
    await lifespan_out.get()
    await task
    return result


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "3000"))
    port = gb.free_port()
    fake = subprocess.Popen([sys.executable, str(gb.ROOT / "bench" / "fake_backend.py"), str(port)])
    try:
        home = Path(tempfile.mkdtemp(prefix="vc-inprocess-"))
        key, _ = gb.seed(home, port)
        gb.wait_http(f"http://127.0.0.1:{port}/v1/models")
        os.environ["VALUECHAIN_HOME"] = str(home)
        from valuechain.app import create_app
        from valuechain.core.settings import Settings

        print(json.dumps(asyncio.run(_exercise(create_app(Settings()), key, n, "--cprofile" in sys.argv))))
    finally:
        fake.terminate()
        fake.wait(timeout=10)


if __name__ == "__main__":
    main()
