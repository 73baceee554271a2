"""Shared fixtures: settings in a temporary HOME, databases (SQLite and PostgreSQL), app and clients."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.s3server import S3Server, start_s3_server
from valuechain.accounts.principal import system_principal
from valuechain.accounts.schemas import KeyCreate, OrgCreate
from valuechain.accounts.service import create_key, create_org
from valuechain.app import create_app
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings, normalise_database_url
from valuechain.migrations.tables import metadata

PG_ENV = "VALUECHAIN_TEST_POSTGRES_URL"
REDIS_ENV = "VALUECHAIN_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session (the shared one is never touched)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    admin_url = normalise_database_url(base)
    name = f"vc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_migrated(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    migrate.upgrade(db)
    yield db
    db.dispose()


def _reset_postgres(db: Database) -> None:
    kept = {"alembic_version", "table_versions"}  # the watched tables' rows are seeded by a migration
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name not in kept)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # procrastinate's queue (migration 0015): no delivery of a previous test's job
        conn.execute(text("TRUNCATE procrastinate_jobs, procrastinate_workers RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE table_versions SET version = 0"))
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A migrated, empty database; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "valuechain.db"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
    else:
        migrated = request.getfixturevalue("pg_migrated")
        _reset_postgres(migrated)
        # A Database of its own per test: the apps of earlier tests registered after-commit hooks (access
        # caches, a webhook dispatcher) on theirs, which would otherwise still fire on this test's commits
        # (a previous test's dispatcher delivering this test's webhooks with its own key).
        database = Database(migrated.url)
        yield database
        database.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, database=db)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


def make_org(db: Database, slug: str, country: str = "FR") -> None:
    with db.unit_of_work() as session:
        create_org(
            session, OrgCreate(slug=slug, name=slug.title(), country=country), principal=system_principal()
        )


def make_key(
    db: Database, org: str, role: str = "admin", *, operator: bool = False, scopes: list[str] | None = None
) -> str:
    with db.unit_of_work() as session:
        data = KeyCreate(name=f"{org}-{role}", role=role, scopes=scopes)  # type: ignore[arg-type]
        return create_key(session, org, data, principal=system_principal(), is_operator=operator)[1]


def ask_for_offer(db: Database, offer_id: str, org: str) -> str:
    """A member of ``org`` asks for the offer (the consent a white-label reseller needs, issue 11); the status."""
    from valuechain.accounts.directory import org_id_for_slug
    from valuechain.accounts.principal import Principal
    from valuechain.accounts.roles import Role, Scope
    from valuechain.market.service import request_access

    with db.unit_of_work() as session:
        org_id = org_id_for_slug(session, org)
        assert org_id is not None, org
        member = Principal(
            org_id=org_id, org_slug=org, key_id=None, user_id="cli", role=Role.member, scopes=frozenset(Scope)
        )
        return request_access(session, offer_id, principal=member).status


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """An S3-compatible server (moto's server mode) for this test session."""
    server = start_s3_server(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()
