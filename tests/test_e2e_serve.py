"""End to end: `valuechain demo` then `valuechain serve` as a real process, called over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("e2e-home")
    port = free_port()
    env = os.environ | {
        "VALUECHAIN_HOME": str(home),
        "VALUECHAIN_PORT": str(port),
        "VALUECHAIN_LOG_LEVEL": "warning",
    }
    env.pop("VALUECHAIN_DATABASE_URL", None)
    cli = [sys.executable, "-m", "valuechain"]
    demo = subprocess.run(
        [*cli, "demo", "--format", "json"], env=env, capture_output=True, text=True, check=True
    )
    keys = json.loads(demo.stdout)["keys"]
    log = (Path(home) / "server.log").open("w")
    process = subprocess.Popen([*cli, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not become ready: " + (Path(home) / "server.log").read_text())
        yield base, keys
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        server_log = (Path(home) / "server.log").read_text()
        assert not any(secret in server_log for secret in keys.values()), "a secret reached the server log"


def test_served_demo_scopes_each_organisation(served: tuple[str, dict[str, str]]) -> None:
    base, keys = served
    developer = {"Authorization": f"Bearer {keys['demo-developer']}"}
    outsider = {"Authorization": f"Bearer {keys['demo-outsider']}"}
    models = {m["id"] for m in httpx.get(f"{base}/api/v1/models", headers=developer).json()}
    assert models == {"demo-provider/smollm2-135m-instruct", "demo-developer/smollm2-135m-support"}
    outside = {m["id"] for m in httpx.get(f"{base}/api/v1/models", headers=outsider).json()}
    assert outside == {"demo-provider/smollm2-135m-instruct"}
    hidden = httpx.get(f"{base}/api/v1/systems/demo-developer/support-assistant", headers=outsider)
    assert hidden.status_code == 404
    version = httpx.get(
        f"{base}/api/v1/models/demo-provider/smollm2-135m-instruct/versions/1", headers=developer
    )
    assert any(a["path"].endswith(".gguf") for a in version.json()["artifacts"])  # hub adds card + licence
    assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "valuechain"
    assert httpx.get(f"{base}/docs").status_code == 200
