"""Manifest routes keep the event loop free: parsing and checking run in worker threads (issue 17)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.conftest import auth, make_key, make_org
from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings


def big_manifest(models: int) -> str:
    """A valid manifest of about 170 bytes per model (49,000 models: just under 8 MiB)."""
    lines = ["valuechain: 1", "actors:", "  - {id: org0, name: Org 0, country: DE}", "models:"]
    lines += [
        f"  - {{id: org0/m{i}, parameters: 1.0e+9, training_compute_flop: 1.0e+22, output_modalities: [text],"
        f" licence: apache-2.0, weights_public: true, eu_market: 2025-01-01}}"
        for i in range(models)
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_healthz_answers_while_four_8mb_manifests_are_checked(settings: Settings, db: Database) -> None:
    make_org(db, "acme")
    headers = auth(make_key(db, "acme")) | {"content-type": "application/yaml"}
    text = big_manifest(49_000)
    assert 8_000_000 < len(text) <= settings.max_request_bytes
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
        assert (await client.get("/healthz")).status_code == 200  # warm the route
        checks = [
            asyncio.create_task(client.post("/api/v1/chain/check", content=text, headers=headers))
            for _ in range(4)
        ]
        latencies: list[float] = []
        while not all(task.done() for task in checks):
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
        answers = [await task for task in checks]
    app.state.manifest_parser.close()
    assert all(a.status_code == 200 and a.json()["valid"] for a in answers)
    assert len(latencies) >= 5
    # Each check takes about a second of CPU: on the event loop, /healthz waited for whole checks (several
    # seconds). In threads it waits only for the GIL; the bound is generous for a loaded 2-core machine.
    print(f"slowest /healthz {max(latencies):.3f} s of {len(latencies)}")
    assert max(latencies) < 0.35, f"slowest /healthz {max(latencies):.3f} s of {len(latencies)}"
