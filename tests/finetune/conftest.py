"""Fine-tuning fixtures: a provider offering the bundled model with fine-tuning terms, a customer entitled
to it with credits, an outsider; worker processes run ``valuechain worker`` against the same database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import make_key, make_org
from valuechain.accounts.directory import org_id_for_slug
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms, FineTuningTerms, PricePlan
from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version
from valuechain.runtime.service import bind_backend

BASE = "acme/smol"
DATA = Path(__file__).parent / "zorbia.jsonl"
TERMS = ApiTerms(
    plan=PricePlan(free_credits=1_000_000, input_per_mtok=100_000, output_per_mtok=400_000),
    max_output_tokens=64,
    fine_tuning=FineTuningTerms(trained_per_mtok=2_000_000),
)


@dataclass
class Seeded:
    offer_id: str
    version_id: str
    customer_id: str
    provider_id: str
    customer_key: str
    outsider_key: str
    provider_key: str


def seed(db: Database, terms: ApiTerms = TERMS) -> Seeded:
    """acme offers ``acme/smol`` (the bundled GGUF, 2 threads) through the API; devco is entitled."""
    for slug in ("acme", "devco", "outco"):
        make_org(db, slug)
    with db.unit_of_work() as session:
        provider_id = org_id_for_slug(session, "acme")
        assert provider_id is not None
        acme = system_principal(org_id=provider_id, org_slug="acme")
        create_model(session, ModelCreate(name="smol", visibility="public"), principal=acme)
        version = create_version(session, BASE, VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        offer = create_offer(session, OfferCreate(model=f"{BASE}@1", channel="api"), principal=acme)  # type: ignore[arg-type]
        market.set_api_terms(session, offer.id, terms, principal=acme)
        bind_backend(
            session,
            version_id=version.id,
            kind="embedded",
            config={"n_threads": 2},
            context_length=1024,
            principal=acme,
        )
        market.grant(session, offer.id, "devco", principal=acme)
        customer_id = org_id_for_slug(session, "devco")
        assert customer_id is not None
        ids = (offer.id, version.id, customer_id, provider_id)
    keys = (make_key(db, "devco", "member"), make_key(db, "outco", "member"), make_key(db, "acme", "admin"))
    return Seeded(*ids, *keys)


def worker_env(settings: Settings, db: Database, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "VALUECHAIN_HOME": str(settings.home),
        "VALUECHAIN_DATABASE_URL": db.url,
        "VALUECHAIN_FINETUNE_POLL_S": "0.5",
        "VALUECHAIN_FINETUNE_THREADS": "2",
        "VALUECHAIN_LOG_LEVEL": "warning",
    }
    return env | extra


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "valuechain", "worker"], env=env)


def wait_for(condition: Callable[[], object], *, timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture
def needs_training() -> None:
    for module in ("torch", "transformers", "peft", "gguf", "llama_cpp"):
        pytest.importorskip(module)
