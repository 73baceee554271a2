"""The queue of the embedded (and PostgreSQL) worker without training: claims, takeover of a job whose
heartbeat lapsed, the attempt limit, and cancelled jobs whose worker died are settled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.finetune.conftest import BASE, DATA, seed
from valuechain.accounts.principal import system_principal
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.finetune import service
from valuechain.finetune.models import FineTuneJob
from valuechain.finetune.worker import MAX_ATTEMPTS, Worker
from valuechain.hub.storage import LocalBlobStore
from valuechain.market import ledger


@pytest.fixture
def queued(db: Database, settings: Settings) -> tuple[str, str, LocalBlobStore]:
    seeded = seed(db)
    store = LocalBlobStore(settings.resolved_hub_blob_dir)
    customer = system_principal(org_id=seeded.customer_id, org_slug="devco")
    with db.unit_of_work() as session:
        f = service.upload_file(
            session,
            store,
            principal=customer,
            filename="z.jsonl",
            purpose="fine-tune",
            content=DATA.read_bytes(),
        )
        job = service.create_job(
            session, store, service.JobCreate(model=BASE, training_file=f.id), principal=customer
        )
    return job.id, seeded.customer_id, store


def _row(db: Database, job_id: str) -> dict[str, object]:
    with db.session() as session:
        job = session.get(FineTuneJob, job_id)
        assert job is not None
        return {c.key: getattr(job, c.key) for c in FineTuneJob.__table__.columns}


def _age_heartbeat(db: Database, job_id: str, seconds: float) -> None:
    with db.unit_of_work() as session:
        session.execute(
            update(FineTuneJob)
            .where(FineTuneJob.id == job_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_a_live_job_is_not_claimed_twice_and_a_lapsed_one_is_taken_over(
    db: Database, settings: Settings, queued: tuple[str, str, LocalBlobStore]
) -> None:
    job_id, _, store = queued
    a, b = Worker(db, store, settings, worker_id="a"), Worker(db, store, settings, worker_id="b")
    claim = a.claim()
    assert claim is not None and claim.job_id == job_id and claim.attempt == 1
    assert b.claim() is None  # heartbeat fresh: a holds it
    assert a.heartbeat(job_id) and not b.heartbeat(job_id)
    _age_heartbeat(db, job_id, settings.finetune_lease_s + 1)
    taken = b.claim()
    assert taken is not None and taken.attempt == 2
    assert _row(db, job_id)["worker_id"] == "b" and not a.heartbeat(job_id)  # a learns it lost the job


def test_after_the_attempt_limit_the_job_fails_and_is_settled_for_its_steps(
    db: Database, settings: Settings, queued: tuple[str, str, LocalBlobStore]
) -> None:
    job_id, customer_id, store = queued
    with db.session() as session:
        before = ledger.wallet_balance(session, customer_id) + _row(db, job_id)["hold"]  # type: ignore[operator]
    for attempt in range(MAX_ATTEMPTS):
        assert Worker(db, store, settings, worker_id=f"w{attempt}").claim() is not None
        _age_heartbeat(db, job_id, settings.finetune_lease_s + 1)
    with db.unit_of_work() as session:
        session.execute(update(FineTuneJob).where(FineTuneJob.id == job_id).values(trained_tokens=1000))
    assert Worker(db, store, settings, worker_id="last").claim() is None
    row = _row(db, job_id)
    assert row["status"] == "failed" and row["settled_at"] is not None
    assert row["cost"] == 2000  # 1,000 tokens at 2,000,000 micro-EUR per million
    with db.session() as session:
        assert ledger.wallet_balance(session, customer_id) == before - 2000


def test_a_cancelled_job_whose_worker_died_is_settled_by_the_next_claim(
    db: Database, settings: Settings, queued: tuple[str, str, LocalBlobStore]
) -> None:
    job_id, customer_id, store = queued
    assert Worker(db, store, settings, worker_id="a").claim() is not None
    with db.unit_of_work() as session:
        service.cancel_job(session, job_id, principal=system_principal(org_id=customer_id))
    assert _row(db, job_id)["settled_at"] is None  # running when cancelled: its worker settles…
    _age_heartbeat(db, job_id, settings.finetune_lease_s + 1)  # …but it died
    assert Worker(db, store, settings, worker_id="b").claim() is None
    row = _row(db, job_id)
    assert row["status"] == "cancelled" and row["settled_at"] is not None and row["cost"] == 0
