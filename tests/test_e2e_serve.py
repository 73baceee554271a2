"""End to end: `valuechain demo` then `valuechain serve` as a real process, called over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ledger import assert_ledger_balances
from valuechain.core.db import Database

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLI = [sys.executable, "-m", "valuechain"]


@pytest.fixture(scope="module")
def served_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the served demo (its HOME and port): CLI commands run in it act on its database."""
    env = os.environ | {
        "VALUECHAIN_HOME": str(tmp_path_factory.mktemp("e2e-home")),
        "VALUECHAIN_PORT": str(free_port()),
        "VALUECHAIN_LOG_LEVEL": "warning",
    }
    for name in ("VALUECHAIN_DATABASE_URL", "VALUECHAIN_PUBLIC_URL", "VALUECHAIN_HOST", "VALUECHAIN_API_KEY"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def served(served_env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    env = served_env
    home, port = env["VALUECHAIN_HOME"], env["VALUECHAIN_PORT"]
    cli = CLI
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


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _kit_tests(root: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    """The kit's own tests, run as its user would: no valuechain settings, only (maybe) the key; and only
    the plugins its requirements bring (openai and pytest), not those of this project's test venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALUECHAIN_", "PYTEST"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if key is not None:
        env["VALUECHAIN_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _requests(base: str, key: str) -> int:
    rows = httpx.get(f"{base}/api/v1/usage", headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    return sum(int(row["requests"]) for row in rows)


def test_generated_kit_passes_its_own_test_against_the_served_demo(
    served: tuple[str, dict[str, str]], served_env: dict[str, str], tmp_path: Path
) -> None:
    """Issue 11: `valuechain kit` for the demo's API offer, unzipped, passes its own test on the server."""
    base, keys = served
    developer = {"Authorization": f"Bearer {keys['demo-developer']}"}
    offers = httpx.get(f"{base}/api/v1/offers", params={"channel": "api"}, headers=developer).json()
    [offer] = [o["id"] for o in offers if o["model"].startswith("demo-provider/smollm2-135m-instruct@")]
    kit = tmp_path / "kit.zip"
    made = json.loads(_cli(served_env, "kit", offer, "--output", str(kit), "--as", "demo-developer",
                           "--format", "json"))  # fmt: skip
    assert made["sha256"] == hashlib.sha256(kit.read_bytes()).hexdigest()
    with zipfile.ZipFile(kit) as archive:
        archive.extractall(tmp_path / "unzipped")
    [root] = list((tmp_path / "unzipped").iterdir())
    app = (root / "app.py").read_text()
    # the default base URL is the served process's /v1 (VALUECHAIN_PORT), not a fixed port
    assert f'"{base}/v1"' in app and f'"{made["model"]}"' in app
    without_key = _kit_tests(root, None)
    assert without_key.returncode != 0 and "VALUECHAIN_API_KEY" in without_key.stdout  # the test can fail
    before = _requests(base, keys["demo-developer"])
    result = _kit_tests(root, keys["demo-developer"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert _requests(base, keys["demo-developer"]) == before + 1  # its chat completion was served, metered
    database = Database(f"sqlite:///{Path(served_env['VALUECHAIN_HOME']) / 'valuechain.db'}")
    try:
        assert_ledger_balances(database)  # the check `valuechain usage ledger-check` runs
    finally:
        database.dispose()
