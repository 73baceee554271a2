"""Gateway fixtures: a provider with an ``api`` offer served by a fake backend, entitled and outside orgs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import openai
import pytest
from fastapi import FastAPI

from tests.conftest import make_key, make_org
from tests.gateway.fakes import FakeBackend
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.state import GatewayState, build_gateway
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms, Limits, LoggingPolicy, PricePlan
from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version

MODEL = "acme/tiny"


@dataclass
class World:
    db: Database
    app: FastAPI
    gateway: GatewayState
    backend: FakeBackend
    offer_id: str
    version_id: str
    dev_key: str
    outsider_key: str
    provider_key: str

    def client(self, key: str | None = None, **kw: object) -> openai.AsyncOpenAI:
        transport = httpx.ASGITransport(app=self.app)
        http = httpx.AsyncClient(transport=transport, base_url="http://test")
        return openai.AsyncOpenAI(
            base_url="http://test/v1", api_key=key or self.dev_key, http_client=http, max_retries=0, **kw
        )  # type: ignore[arg-type]

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")


def default_terms(**changes: object) -> ApiTerms:
    base = ApiTerms(
        plan=PricePlan(free_credits=1_000_000, input_per_mtok=1_000_000, output_per_mtok=2_000_000),
        logging=LoggingPolicy(mode="full", retention_days=7, redact_pii=True),
        max_output_tokens=64,
    )
    return base.model_copy(update=changes)


def setup_world(
    db: Database, settings: Settings, terms: ApiTerms, *, redis_prefix: str | None = None
) -> World:
    for slug in ("acme", "devco", "outco"):
        make_org(db, slug)
    with db.unit_of_work() as session:
        acme = system_principal(org_id=_org_id(db, "acme"), org_slug="acme")
        create_model(session, ModelCreate(name="tiny", visibility="public"), principal=acme)
        version = create_version(session, MODEL, VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        offer = create_offer(session, OfferCreate(model=f"{MODEL}@1", channel="api"), principal=acme)  # type: ignore[arg-type]
        market.set_api_terms(session, offer.id, terms, principal=acme)
        market.grant(session, offer.id, "devco", principal=acme)
        offer_id, version_id = offer.id, version.id
    from valuechain.app import create_app

    app = create_app(settings, database=db)
    gateway = build_gateway(settings, db, redis_prefix=redis_prefix)
    backend = FakeBackend()
    gateway.pool.put(version_id, backend)
    app.state.gateway = gateway
    return World(
        db,
        app,
        gateway,
        backend,
        offer_id,
        version_id,
        make_key(db, "devco", "member"),
        make_key(db, "outco", "member"),
        make_key(db, "acme", "admin"),
    )


def _org_id(db: Database, slug: str) -> str:
    from sqlalchemy import select

    from valuechain.accounts.models import Organization

    with db.session() as session:
        return session.execute(select(Organization.id).where(Organization.slug == slug)).scalar_one()


@pytest.fixture
async def world(db: Database, settings: Settings) -> AsyncIterator[World]:
    w = setup_world(db, settings, default_terms())
    yield w
    await w.gateway.close()


@pytest.fixture
def sqlite_only(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("covered on SQLite; the PostgreSQL run of this test adds nothing")


__all__ = ["World", "default_terms", "setup_world", "Limits"]
