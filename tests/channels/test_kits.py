"""Kits (issue 11, part 6): deterministic zips, visibility, and the kit's own test against a served app."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.channels.test_lifecycle import owner_of
from tests.conftest import auth
from tests.gateway.conftest import MODEL, World
from tests.ledger import assert_ledger_balances, money_snapshot
from valuechain.channels.kits import build_kit, kit_spec
from valuechain.core.errors import NotFoundError, ValidationError
from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version


def _spec(world: World, offer_id: str, who: str = "devco", base_url: str = "http://x.test/v1"):  # type: ignore[no-untyped-def]
    with world.db.session() as session:
        return kit_spec(session, offer_id, principal=owner_of(world, who), base_url=base_url)


async def test_kit_is_deterministic_and_holds_no_secret(world: World) -> None:
    first, second = build_kit(_spec(world, world.offer_id)), build_kit(_spec(world, world.offer_id))
    assert first.data == second.data and first.sha256 == hashlib.sha256(first.data).hexdigest()
    other = build_kit(_spec(world, world.offer_id, base_url="http://y.test/v1"))
    assert other.sha256 != first.sha256  # the base URL is preset in the files
    with zipfile.ZipFile(io.BytesIO(first.data)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        files = {n.split("/", 1)[1]: archive.read(n).decode() for n in names}
    assert set(files) == {".env.example", "README.md", "app.py", "requirements.txt", "tests/test_app.py"}
    assert f'"{MODEL}"' in files["app.py"] and "http://x.test/v1" in files["app.py"]
    assert "VALUECHAIN_API_KEY=\n" in files[".env.example"]  # a placeholder, no secret
    assert world.dev_key not in first.data.decode("latin-1")
    assert files["requirements.txt"].startswith("openai==")
    async with world.http() as http:  # REST: the same bytes for the same base URL
        r = await http.get(
            f"/api/v1/offers/{world.offer_id}/kit",
            params={"base_url": "http://x.test/v1"},
            headers=auth(world.dev_key),
        )
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        assert r.content == first.data and r.headers["x-kit-sha256"] == first.sha256
        r = await http.get(
            f"/api/v1/offers/{world.offer_id}/kit",
            params={"base_url": "javascript:x"},
            headers=auth(world.dev_key),
        )
        assert r.status_code == 422


async def test_kit_for_an_offer_the_caller_cannot_see(world: World) -> None:
    acme = owner_of(world, "acme")
    with world.db.unit_of_work() as session:
        create_model(session, ModelCreate(name="secret", visibility="private"), principal=acme)
        create_version(session, "acme/secret", VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        hidden = create_offer(session, OfferCreate(model="acme/secret@1", channel="api"), principal=acme).id  # type: ignore[arg-type]
        weights = create_offer(
            session, OfferCreate(model=f"{MODEL}@1", channel="open_weights"), principal=acme
        ).id  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        _spec(world, hidden, who="devco")
    with pytest.raises(NotFoundError):
        _spec(world, "off_missing", who="devco")
    with pytest.raises(ValidationError, match="kits are made for API offers"):
        _spec(world, weights, who="devco")
    assert build_kit(_spec(world, hidden, who="acme")).data  # the owner sees it
    async with world.http() as http:
        r = await http.get(f"/api/v1/offers/{hidden}/kit", headers=auth(world.dev_key))
        missing = await http.get("/api/v1/offers/off_missing/kit", headers=auth(world.dev_key))
        assert r.status_code == missing.status_code == 404
        assert r.json()["error"]["message"].replace(hidden, "X") == missing.json()["error"][
            "message"
        ].replace("off_missing", "X")  # no oracle
        page = await http.get(f"/offers/{hidden}/kit.zip")  # the console, anonymous: a 404 page
        assert page.status_code == 404 and "text/html" in page.headers["content-type"]
        public = await http.get(f"/offers/{world.offer_id}/kit.zip")
        assert public.status_code == 200 and public.content[:2] == b"PK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(world: World, sqlite_only: None) -> Iterator[str]:
    """The world's app (fake backend) served over HTTP in a thread; yields its /v1 base URL."""
    import uvicorn

    port = _port()
    server = uvicorn.Server(
        uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def test_generated_kit_passes_its_own_test_against_a_served_app(
    world: World, served: str, tmp_path: Path
) -> None:
    kit = build_kit(_spec(world, world.offer_id, base_url=served))
    with zipfile.ZipFile(io.BytesIO(kit.data)) as archive:
        archive.extractall(tmp_path / "unzipped")
    [root] = list((tmp_path / "unzipped").iterdir())
    assert httpx.get(f"{served}/models", headers=auth(world.dev_key)).status_code == 200
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALUECHAIN_", "PYTEST"))}
    without_key = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert without_key.returncode != 0 and "VALUECHAIN_API_KEY" in without_key.stdout  # the test can fail
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, env=env | {"VALUECHAIN_API_KEY": world.dev_key}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert world.backend.calls == 1  # the kit's chat completion reached the backend
    deadline = time.monotonic() + 20  # metered after the answer, by the recorder's thread
    while money_snapshot(world.db).counts["gateway_usage"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert money_snapshot(world.db).counts["gateway_usage"] >= 1
    assert_ledger_balances(world.db)
