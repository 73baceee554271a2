"""Instant revocation across processes (issue 17): a key revoked or an organisation suspended by another
process (the CLI, another replica, no Redis) is refused by a served gateway within 100 ms."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_key, make_org
from tests.gateway.conftest import MODEL, _org_id, default_terms, setup_world
from tests.gateway.test_served import _port, _serve
from valuechain.accounts.principal import system_principal
from valuechain.accounts.service import revoke_key
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.access import ACCESS_TABLES
from valuechain.oversight.service import suspend


def test_every_table_the_access_cache_reads_is_watched(db: Database) -> None:
    """The migration seeds a version row for each table the caches are built from; a commit bumps it."""
    assert set(db.table_versions()) == ACCESS_TABLES | {"oversight_rules"}
    make_org(db, "devco")
    before = db.table_versions()
    key = make_key(db, "devco", "member")
    with db.unit_of_work() as session:
        revoke_key(session, "devco", key.split("_")[1], principal=system_principal())
    after = db.table_versions()
    assert {t for t in after if after[t] != before[t]} == {"api_keys"}
    assert after["api_keys"] == before["api_keys"] + 2  # created, then revoked


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Database, str]]:
    """A gateway process over a SQLite database that this test process changes directly."""
    home = tmp_path / "home"
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    world = setup_world(db, settings, default_terms())
    process = _serve(home, port := _port())
    try:
        yield f"http://127.0.0.1:{port}", db, world.dev_key
    finally:
        process.terminate()
        process.wait(timeout=10)
        db.dispose()


def _refused_after(client: httpx.Client, path: str, key: str, change: Callable[[], None]) -> float:
    """Seconds from the end of ``change`` (committed) until the served process refuses ``key``."""
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(path, headers=headers).status_code == 200  # cached in the gateway now
    change()
    committed = time.perf_counter()
    while time.perf_counter() - committed < 5:
        status = client.get(path, headers=headers).status_code
        if status in (401, 403):
            return time.perf_counter() - committed
        assert status == 200
    return float("inf")


@pytest.mark.e2e
def test_revoked_key_and_suspended_org_are_refused_within_100ms(served: tuple[str, Database, str]) -> None:
    url, db, dev_key = served
    other_key = make_key(db, "devco", "member")
    acme = system_principal(org_id=_org_id(db, "acme"), org_slug="acme")

    def revoke() -> None:
        with db.unit_of_work() as session:
            revoke_key(session, "devco", dev_key.split("_")[1], principal=system_principal(), reason="leaked")

    def suspend_devco() -> None:
        with db.unit_of_work() as session:
            suspend(session, principal=acme, subject_type="org", subject_id="devco", reason="abuse")

    with httpx.Client(base_url=url, timeout=5) as client:
        time.sleep(0.5)  # let the served process settle after start-up
        revoked = _refused_after(client, "/v1/models", dev_key, revoke)
        suspended = _refused_after(client, f"/v1/models/{MODEL}", other_key, suspend_devco)
    print(f"revoked key refused after {revoked * 1000:.0f} ms, suspended org after {suspended * 1000:.0f} ms")
    assert revoked < 0.1 and suspended < 0.1
