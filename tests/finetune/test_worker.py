"""Workers: a worker killed mid-job leaves it to another, which resumes from the last checkpoint and
finishes it once; cancel stops training within one step and charges only the steps done."""

from __future__ import annotations

import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.finetune.conftest import BASE, DATA, Seeded, seed, start_worker, wait_for, worker_env
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.finetune import service
from valuechain.finetune.models import FineTuneCheckpoint, FineTuneEvent, FineTuneJob
from valuechain.hub.storage import LocalBlobStore
from valuechain.market.models import LedgerTransaction
from valuechain.registry.models import Derivation, Model

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _create(db: Database, settings: Settings, seeded: Seeded, **hp: object) -> str:
    store = LocalBlobStore(settings.resolved_hub_blob_dir)
    with db.unit_of_work() as session:
        customer = system_principal(org_id=seeded.customer_id, org_slug="devco")
        f = service.upload_file(
            session,
            store,
            principal=customer,
            filename="z.jsonl",
            purpose="fine-tune",
            content=DATA.read_bytes(),
        )
        job = service.create_job(
            session,
            store,
            service.JobCreate(model=BASE, training_file=f.id, hyperparameters=hp),
            principal=customer,
        )
    return job.id


def _job(db: Database, job_id: str) -> SimpleNamespace:
    """The job's row as it is now (a plain snapshot: sessions end with a rollback)."""
    with db.session() as session:
        job = session.get(FineTuneJob, job_id)
        assert job is not None
        return SimpleNamespace(**{c.key: getattr(job, c.key) for c in FineTuneJob.__table__.columns})


def _count(db: Database, query: object) -> int:
    with db.session() as session:
        return int(session.scalar(query) or 0)  # type: ignore[arg-type]


def test_a_killed_workers_job_is_resumed_and_finishes_once(
    db: Database, settings: Settings, tmp_path: Path, needs_training: None
) -> None:
    seeded = seed(db)
    job_id = _create(db, settings, seeded, n_epochs=1, batch_size=4)  # 7 steps
    env = worker_env(settings, db, VALUECHAIN_FINETUNE_LEASE_S="4", VALUECHAIN_FINETUNE_CHECKPOINT_EVERY="2")
    first = start_worker(env)
    try:
        wait_for(
            lambda: _count(db, select(func.count()).where(FineTuneCheckpoint.job_id == job_id)),
            timeout_s=600,
            what="the first checkpoint",
        )
        first.send_signal(signal.SIGKILL)  # no clean-up, no goodbye: the heartbeat just stops
        first.wait(timeout=10)
        killed_at = _job(db, job_id)
        assert killed_at.status == "running" and killed_at.steps_done >= 2
        second, third = start_worker(env), start_worker(env)  # two survivors race for the job
        try:
            done = wait_for(
                lambda: _job(db, job_id).status in ("succeeded", "failed", "cancelled"),
                timeout_s=600,
                what="the job to end",
            )
            assert done
        finally:
            for proc in (second, third):
                proc.terminate()
                proc.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    job = _job(db, job_id)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2 and job.steps_done == job.total_steps == 7
    with db.session() as session:
        messages = list(session.scalars(select(FineTuneEvent.message).where(FineTuneEvent.job_id == job_id)))
        models = list(session.scalars(select(Model.slug).where(Model.slug == job.fine_tuned_model)))
        settlements = session.scalar(
            select(func.count()).where(LedgerTransaction.idempotency_key == f"ft-settle:{job_id}")
        )
        derivation = session.scalars(
            select(Derivation).where(Derivation.on_behalf_of_org_id == job.org_id)
        ).all()
    assert any(m.startswith("Worker lost; resuming from step ") and not m.endswith(" 0") for m in messages)
    assert sum(m.startswith("New fine-tuned model created") for m in messages) == 1
    assert models == [job.fine_tuned_model] and settlements == 1 and derivation
    # every step was trained once from the checkpoint on: the steps before the kill and after it add up
    metrics = [m for m in messages if m.startswith("Step ")]
    assert {int(m.split()[1].split("/")[0]) for m in metrics} == set(range(1, 8))


def test_cancel_stops_within_one_step_and_charges_the_steps_done(
    db: Database, settings: Settings, needs_training: None
) -> None:
    if not db.is_sqlite:
        pytest.skip("covered on SQLite; the claim and the conditional writes are the same on PostgreSQL")
    seeded = seed(db)
    job_id = _create(db, settings, seeded, n_epochs=3, batch_size=4)  # 21 steps
    worker = start_worker(worker_env(settings, db))
    try:
        wait_for(lambda: _job(db, job_id).steps_done >= 1, timeout_s=600, what="the first step")
        with db.unit_of_work() as session:
            service.cancel_job(session, job_id, principal=system_principal(org_id=seeded.customer_id))
            at_cancel = _job(db, job_id).steps_done
        wait_for(lambda: _job(db, job_id).settled_at is not None, timeout_s=120, what="the settlement")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    job = _job(db, job_id)
    assert job.status == "cancelled" and job.steps_done <= at_cancel + 1 < job.total_steps
    assert job.cost == -(-(job.trained_tokens * 2_000_000) // 1_000_000) and 0 < job.cost < job.hold
