"""Hub fixtures: a migrated database with three organisations and keys, the ASGI app, a served process.

huggingface_hub reads HF_ENDPOINT (and its cache paths) at import time, so they are set here, before any
test module imports it, pointing at the port the served process will use.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.accounts.schemas import KeyCreate, OrgCreate
from valuechain.accounts.service import create_key, create_org
from valuechain.app import create_app
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Idempotent: this module may be imported twice (as a conftest and by name).
SERVED_PORT = int(os.environ.setdefault("VALUECHAIN_TEST_HUB_PORT", str(_free_port())))
_HF_HOME = Path(os.environ.setdefault("VALUECHAIN_TEST_HF_HOME", tempfile.mkdtemp(prefix="vc-hf-home-")))
atexit.register(shutil.rmtree, _HF_HOME, True)
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{SERVED_PORT}/hub"
os.environ["HF_HOME"] = str(_HF_HOME)
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_TOKEN", None)


@dataclass(frozen=True)
class Orgs:
    """Secrets of the test organisations: a provider, a developer and an outsider (plus a viewer key)."""

    provider: str
    developer: str
    outsider: str
    provider_viewer: str


def seed_orgs(db: Database) -> Orgs:
    principal = system_principal()
    secrets: dict[str, str] = {}
    with db.unit_of_work() as session:
        for slug in ("acme", "devco", "outco"):
            create_org(session, OrgCreate(slug=slug, name=slug.title(), country="DE"), principal=principal)
            _, secrets[slug] = create_key(
                session, slug, KeyCreate(name="test", role=Role.admin), principal=principal
            )
        _, viewer = create_key(
            session, "acme", KeyCreate(name="viewer", role=Role.viewer), principal=principal
        )
    return Orgs(
        provider=secrets["acme"],
        developer=secrets["devco"],
        outsider=secrets["outco"],
        provider_viewer=viewer,
    )


@pytest.fixture
def hub_settings(settings: Settings) -> Settings:
    """The platform's test settings (HOME in a temporary directory)."""
    return settings


@pytest.fixture
def hub_db(db: Database) -> Database:
    """The platform's test database: migrated SQLite, and PostgreSQL when configured."""
    return db


@pytest.fixture
def orgs(hub_db: Database) -> Orgs:
    return seed_orgs(hub_db)


@pytest.fixture
def hub(hub_settings: Settings, hub_db: Database, orgs: Orgs) -> Iterator[TestClient]:
    """The platform app through ASGI; requests under ``/hub``."""
    with TestClient(create_app(hub_settings, database=hub_db), base_url="http://testserver") as client:
        yield client


@dataclass(frozen=True)
class Served:
    """A ``valuechain`` server process for the official clients."""

    endpoint: str
    pid: int
    orgs: Orgs
    home: Path


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    home = Path(tempfile.mkdtemp(prefix="vc-hub-served-"))
    settings = Settings(home=home)
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    orgs = seed_orgs(db)
    db.dispose()
    env = {**os.environ, "VALUECHAIN_HOME": str(home)}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "valuechain.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(SERVED_PORT),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    try:
        _wait_ready(f"http://127.0.0.1:{SERVED_PORT}/healthz", process)
        yield Served(endpoint=os.environ["HF_ENDPOINT"], pid=process.pid, orgs=orgs, home=home)
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(_HF_HOME, ignore_errors=True)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the valuechain server exited during start-up")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the valuechain server did not become ready in 60 s")
