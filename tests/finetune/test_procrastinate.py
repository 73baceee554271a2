"""PostgreSQL delivery through procrastinate, without training: two workers share the library's queue and
each job finishes once; a delivery held by a worker that stopped heartbeating is delivered again and the
job is taken over; a job cancelled before delivery is dropped; the delivery commits with the job row."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from tests.finetune.conftest import BASE, DATA, seed, wait_for
from valuechain.accounts.principal import system_principal
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.finetune import queue, service
from valuechain.finetune.models import FineTuneEvent, FineTuneJob
from valuechain.finetune.training import Progress
from valuechain.finetune.worker import Worker
from valuechain.hub.storage import LocalBlobStore
from valuechain.market.models import LedgerTransaction


@pytest.fixture
def pg(db: Database) -> Database:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("procrastinate delivers jobs on PostgreSQL only")
    return db


class QuickWorker(Worker):
    """A worker whose training is one stand-in step (the queue is under test, not the trainer)."""

    def run_job(self, job_id: str) -> None:
        time.sleep(0.5)  # long enough for the other worker to take the next delivery meanwhile
        self._on_step(job_id, Progress(1, 1, 1, 1.0, 100, 100, 0.5))
        blob = self.store.put_bytes(f"adapter of {job_id}".encode())
        self._finish(job_id, blob.sha256, blob.size, Path("base.gguf"), None, 6.0e8, 1_000_000)


def _create(db: Database, settings: Settings, customer_id: str, n: int) -> list[str]:
    store = LocalBlobStore(settings.resolved_hub_blob_dir)
    customer = system_principal(org_id=customer_id, org_slug="devco")
    ids = []
    for _ in range(n):
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
            ids.append(job.id)
    return ids


@pytest.fixture
def serve(pg: Database, settings: Settings) -> Iterator[object]:
    """Start procrastinate workers (threads running ``queue.serve``) named as asked; all stop at the end."""
    stop, threads = threading.Event(), []
    tuned = settings.model_copy(update={"finetune_lease_s": 3.0})

    def start(name: str) -> None:
        worker = QuickWorker(pg, LocalBlobStore(settings.resolved_hub_blob_dir), tuned, worker_id=name)
        worker.stopping = stop
        app = queue.build_app(pg.url)
        thread = threading.Thread(
            target=queue.serve, args=(app, worker.run_delivered), kwargs={"lease_s": 3.0, "stopping": stop}
        )
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


def _deliveries(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT args->>'job_id', status FROM procrastinate_jobs ORDER BY id"))
        return [(r[0], r[1]) for r in rows]


def test_the_delivery_commits_with_the_job_row(pg: Database, settings: Settings) -> None:
    seeded = seed(pg)
    [job_id] = _create(pg, settings, seeded.customer_id, 1)
    assert _deliveries(pg) == [(job_id, "todo")]
    store = LocalBlobStore(settings.resolved_hub_blob_dir)
    customer = system_principal(org_id=seeded.customer_id, org_slug="devco")
    with pytest.raises(RuntimeError), pg.unit_of_work() as session:  # a create that rolls back leaves none
        f = service.upload_file(
            session,
            store,
            principal=customer,
            filename="z.jsonl",
            purpose="fine-tune",
            content=DATA.read_bytes(),
        )
        service.create_job(
            session, store, service.JobCreate(model=BASE, training_file=f.id), principal=customer
        )
        raise RuntimeError("the request failed after the job was written")
    assert _deliveries(pg) == [(job_id, "todo")]


def test_two_workers_share_the_queue_and_each_job_finishes_once(
    pg: Database, settings: Settings, serve: object
) -> None:
    seeded = seed(pg)
    ids = _create(pg, settings, seeded.customer_id, 4)
    serve("a")  # type: ignore[operator]
    serve("b")  # type: ignore[operator]

    def finished() -> bool:
        with pg.session() as session:
            done = session.scalar(
                select(func.count()).where(FineTuneJob.id.in_(ids), FineTuneJob.status == "succeeded")
            )
        return done == len(ids)

    wait_for(finished, timeout_s=120, what="four jobs to succeed")
    wait_for(
        lambda: all(s == "succeeded" for _, s in _deliveries(pg)), timeout_s=30, what="deliveries to finish"
    )
    with pg.session() as session:
        jobs = session.scalars(select(FineTuneJob).where(FineTuneJob.id.in_(ids))).all()
        assert {j.attempts for j in jobs} == {1}
        assert {j.worker_id for j in jobs} == {"a", "b"}  # both took deliveries
        for job_id in ids:
            created = session.scalar(
                select(func.count()).where(
                    FineTuneEvent.job_id == job_id,
                    FineTuneEvent.message.startswith("New fine-tuned model created"),
                )
            )
            settled = session.scalar(
                select(func.count()).where(LedgerTransaction.idempotency_key == f"ft-settle:{job_id}")
            )
            assert created == 1 and settled == 1
    assert sorted(j for j, _ in _deliveries(pg)) == sorted(ids)  # one delivery per job


def test_a_stalled_delivery_is_delivered_again_and_the_job_taken_over(
    pg: Database, settings: Settings, serve: object
) -> None:
    """A worker killed mid-job: its procrastinate worker row stops heartbeating, its job row too."""
    seeded = seed(pg)
    [job_id] = _create(pg, settings, seeded.customer_id, 1)
    old = utcnow() - timedelta(seconds=60)
    with pg.engine.begin() as conn:
        dead = conn.execute(
            text("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (:t) RETURNING id"), {"t": old}
        ).scalar_one()
        conn.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w"), {"w": dead})
        conn.execute(
            update(FineTuneJob)
            .where(FineTuneJob.id == job_id)
            .values(status="running", worker_id="dead", heartbeat_at=old, attempts=1, started_at=old)
        )
    serve("survivor")  # type: ignore[operator]
    wait_for(lambda: _status(pg, job_id) == "succeeded", timeout_s=120, what="the job to be taken over")
    with pg.session() as session:
        job = session.get(FineTuneJob, job_id)
        assert job is not None and job.worker_id == "survivor" and job.attempts == 2
        messages = list(session.scalars(select(FineTuneEvent.message).where(FineTuneEvent.job_id == job_id)))
    assert any(m.startswith("Worker lost; resuming") for m in messages)


def test_a_job_cancelled_before_delivery_is_dropped(pg: Database, settings: Settings, serve: object) -> None:
    seeded = seed(pg)
    [job_id] = _create(pg, settings, seeded.customer_id, 1)
    with pg.unit_of_work() as session:
        service.cancel_job(
            session, job_id, principal=system_principal(org_id=seeded.customer_id, org_slug="devco")
        )
    serve("a")  # type: ignore[operator]
    wait_for(lambda: _deliveries(pg) == [(job_id, "succeeded")], timeout_s=60, what="the delivery to be done")
    assert _status(pg, job_id) == "cancelled"


def _status(db: Database, job_id: str) -> str:
    with db.session() as session:
        return str(session.scalar(select(FineTuneJob.status).where(FineTuneJob.id == job_id)))
