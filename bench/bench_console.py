"""Console render times with a large registry (issue 10): 100k models and 100k derivations.

    PYTHONPATH=src python bench/bench_console.py [--models 100000] [--runs 50]

Seeds a fresh SQLite database in a temporary directory with bulk inserts (not the audited services: this
measures reads), signs a console user in, then times the catalogue (first page, a filtered page, a page
deep in the keyset), a model page with parents and children, and the organisation dashboard through the
ASGI app in process (TestClient: the time includes the client, so it is an upper bound of server time).
Prints p50/p95 in ms per page.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from valuechain.accounts import sessions
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.app import create_app
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.migrations.tables import metadata

ORGS = 20


def seed(db: Database, models: int) -> None:
    now = datetime.now(UTC)
    t = metadata.tables
    with db.engine.begin() as conn:
        conn.execute(insert(t["organizations"]), [
            {"id": f"org_b{i:04d}", "slug": f"org{i}", "name": f"Org {i}", "country": "FR", "is_sme": False,
             "is_microenterprise": False, "created_at": now} for i in range(ORGS)])  # fmt: skip
        for start in range(0, models, 10_000):
            rows = range(start, min(start + 10_000, models))
            conn.execute(insert(t["models"]), [
                {"id": f"mdl_b{i:08d}", "slug": f"org{i % ORGS}/model-{i:06d}", "owner_org_id": f"org_b{i % ORGS:04d}",
                 "visibility": "public" if i % 3 else "private", "licence": ("apache-2.0", "mit", "llama3")[i % 3],
                 "output_modalities": ["text"], "input_modalities": ["text"], "licence_terms": [], "monetised": [],
                 "weights_public": bool(i % 2), "architecture_public": False, "usage_info_public": False,
                 "eu_excluded": False, "designated_systemic_risk": False, "eu_business_users": 0,
                 "created_at": now, "updated_at": now} for i in rows])  # fmt: skip
            conn.execute(insert(t["model_versions"]), [
                {"id": f"ver_b{i:08d}", "model_id": f"mdl_b{i:08d}", "label": "1", "created_at": now} for i in rows
            ])  # fmt: skip
            conn.execute(insert(t["derivations"]), [
                {"id": f"drv_b{i:08d}", "parent_version_id": f"ver_b{i // 2:08d}", "parent_key": f"ver_b{i // 2:08d}",
                 "child_version_id": f"ver_b{i:08d}", "relation": "finetune", "compute_flop": 1e20,
                 "by_org_id": f"org_b{i % ORGS:04d}", "created_at": now} for i in rows if i > 0])  # fmt: skip
            conn.execute(insert(t["offers"]), [
                {"id": f"off_b{i:08d}", "version_id": f"ver_b{i:08d}", "by_org_id": f"org_b{i % ORGS:04d}",
                 "channel": "api" if i % 5 == 0 else "open_weights", "brand": f"org{i % ORGS}", "eu": True,
                 "terms": {}, "created_at": now} for i in rows])  # fmt: skip
    with db.unit_of_work() as session:
        sessions.set_user(session, "bench@example.com", "org1", role=Role.admin, password="bench-password-1",
                          principal=system_principal())  # fmt: skip


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float]:
    assert "bench@example.com" in client.get(path, follow_redirects=False).text  # signed in; warms caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and "bench@example.com" in response.text, path
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(db)
        started = time.perf_counter()
        seed(db, args.models)
        print(f"seeded {args.models} models, versions, offers and {args.models - 1} derivations "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        app = create_app(Settings(home=Path(tmp) / "home", _env_file=None), database=db)  # type: ignore[call-arg]
        with TestClient(app) as client:
            with db.unit_of_work() as session:
                sid = sessions.sign_in(session, "bench@example.com", "bench-password-1")
            client.cookies.set("vc_session", sid)
            middle = f"org{(args.models // 2) % ORGS}/model-{args.models // 2:06d}"
            pages = {
                "catalogue": "/",
                "catalogue, filtered (licence+channel)": "/?licence=mit&channel=api",
                "catalogue, deep page": f"/?after=org7/model-{args.models // 2:06d}",
                "model page (1 parent, 2 children)": f"/models/{middle}",
                "dashboard": "/org",
            }
            print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8}")
            for name, path in pages.items():
                p50, p95 = timed(client, path, args.runs)
                print(f"{name:40} {p50:8.1f} {p95:8.1f}")
        db.dispose()


if __name__ == "__main__":
    main()
