"""The fine-tuning worker (``valuechain worker``): claims queued jobs from the database and trains them.

The queue is the ``finetune_jobs`` table. A worker claims the oldest job that is queued, or running with a
heartbeat older than the lease (its worker died), in one transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers on several machines never claim one job twice; SQLite's write lock serialises the
embedded worker). While it trains it heartbeats; every step is written with a condition on its worker id and
the ``running`` status, so a cancelled or taken-over job stops within one step. A job taken over resumes
from its last checkpoint, and only the worker still holding it may finish it: it ends once.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from valuechain.accounts.principal import system_principal
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.ids import new_id
from valuechain.core.settings import Settings
from valuechain.finetune import data as d
from valuechain.finetune.models import FineTuneCheckpoint, FineTuneJob
from valuechain.finetune.service import add_event, read_blob, settle
from valuechain.finetune.training import Checkpoint, Progress, Trainer
from valuechain.hub.storage import BlobStore, LocalBlobStore, StoredBlob
from valuechain.market.service import entitle_customer
from valuechain.market.terms import parse_terms
from valuechain.registry.finetunes import FineTuneRecord, record_fine_tuned_model
from valuechain.registry.releases import ArtifactFacts
from valuechain.registry.service import offer_record
from valuechain.runtime.service import BindingRecord, bind_backend, binding_of

log = logging.getLogger("valuechain.finetune")
MAX_ATTEMPTS = 3
ACTOR = "finetune-worker"


class JobLostError(Exception):
    """This worker no longer holds the job (cancelled, or taken over after a missed heartbeat)."""


@dataclass(frozen=True, slots=True)
class Claim:
    job_id: str
    attempt: int


class Worker:
    """One worker process: claim, train, finish; repeat."""

    def __init__(
        self, db: Database, store: BlobStore, settings: Settings, *, worker_id: str | None = None
    ) -> None:
        self.db, self.store, self.settings = db, store, settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{new_id('wrk')[-6:]}"
        self.stopping = threading.Event()

    # --- the queue ----------------------------------------------------------------------------------

    def claim(self) -> Claim | None:
        """Take the oldest queued job, or a running one whose worker stopped heartbeating."""
        stale = utcnow() - timedelta(seconds=self.settings.finetune_lease_s)
        with self.db.unit_of_work() as session:
            query = (
                select(FineTuneJob)
                .where(
                    or_(
                        FineTuneJob.status == "queued",
                        (FineTuneJob.status == "running") & (FineTuneJob.heartbeat_at < stale),
                    )
                )
                .order_by(FineTuneJob.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            self._settle_orphans(session, stale)
            job = session.scalars(query).first()
            if job is None:
                return None
            resumed = job.status == "running"
            job.attempts += 1
            if job.attempts > MAX_ATTEMPTS:
                job.status, job.error = (
                    "failed",
                    {"code": "worker_lost", "message": "the job's workers stopped"},
                )
                add_event(session, job.id, "Job failed: its worker stopped too often", level="error")
                settle(session, job)
                return None
            job.status, job.worker_id, job.heartbeat_at = "running", self.worker_id, utcnow()
            job.started_at = job.started_at or utcnow()
            message = (
                f"Worker lost; resuming from step {self._last_step(session, job.id)}"
                if resumed
                else "Fine-tuning job started"
            )
            add_event(session, job.id, message, level="warn" if resumed else "info")
            return Claim(job.id, job.attempts)

    def _settle_orphans(self, session: Session, stale: datetime) -> None:
        """Jobs cancelled while running whose worker then died: settle the steps they did."""
        orphans = session.scalars(
            select(FineTuneJob)
            .where(
                FineTuneJob.status == "cancelled",
                FineTuneJob.settled_at.is_(None),
                FineTuneJob.heartbeat_at < stale,
            )
            .with_for_update(skip_locked=True)
        )
        for job in orphans:
            add_event(session, job.id, f"Training stopped at step {job.steps_done}")
            settle(session, job)

    def _last_step(self, session: Session, job_id: str) -> int:
        step = session.scalar(
            select(FineTuneCheckpoint.step)
            .where(FineTuneCheckpoint.job_id == job_id)
            .order_by(FineTuneCheckpoint.step.desc())
            .limit(1)
        )
        return int(step or 0)

    def _held(self, session: Session, job_id: str) -> FineTuneJob:
        job = session.get(FineTuneJob, job_id, with_for_update=True)
        if job is None or job.status != "running" or job.worker_id != self.worker_id:
            raise JobLostError(job_id)
        return job

    def heartbeat(self, job_id: str) -> bool:
        """Renew the lease; False when the job is no longer this worker's."""
        with self.db.unit_of_work() as session:
            result = session.execute(
                update(FineTuneJob)
                .where(
                    FineTuneJob.id == job_id,
                    FineTuneJob.worker_id == self.worker_id,
                    FineTuneJob.status == "running",
                )
                .values(heartbeat_at=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- running -------------------------------------------------------------------------------------

    def run_forever(self, *, parent_pid: int | None = None) -> None:
        """Poll for jobs; with ``parent_pid`` (the embedded worker of ``serve``), stop when that process is
        gone, so a killed server leaves no worker behind."""
        log.info("fine-tuning worker %s polling every %.1f s", self.worker_id, self.settings.finetune_poll_s)
        while not self.stopping.is_set():
            if parent_pid is not None and os.getppid() != parent_pid:
                return
            if not self.run_once():
                self.stopping.wait(self.settings.finetune_poll_s)

    def run_once(self) -> bool:
        """Claim and run one job; False when none was waiting."""
        claim = self.claim()
        if claim is None:
            return False
        beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(claim.job_id, beating), daemon=True)
        beat.start()
        try:
            self.run_job(claim.job_id)
        except JobLostError:
            self._stop_lost(claim.job_id)
        except Exception as exc:  # a failed job is recorded and settled; the worker goes on
            log.exception("fine-tuning job %s failed", claim.job_id)
            self._fail(claim.job_id, exc)
        finally:
            beating.set()
            beat.join()
        return True

    def _beat(self, job_id: str, done: threading.Event) -> None:
        while not done.wait(self.settings.finetune_lease_s / 3):
            try:
                if not self.heartbeat(job_id):
                    return
            except Exception:  # the next beat retries; a missed lease is what takeover is for
                log.exception("heartbeat of %s failed", job_id)

    def run_job(self, job_id: str) -> None:
        with self.db.session() as session:
            job = session.get(FineTuneJob, job_id)
            assert job is not None
            training = job.training_sha256
            base = binding_of(session, job.base_version_id)
            last = session.execute(
                select(
                    FineTuneCheckpoint.step,
                    FineTuneCheckpoint.tokens,
                    FineTuneCheckpoint.loss,
                    FineTuneCheckpoint.sha256,
                )
                .where(FineTuneCheckpoint.job_id == job_id)
                .order_by(FineTuneCheckpoint.step.desc())
                .limit(1)
            ).first()
            hp = d.Hyperparameters(**job.hyperparameters)
            seed, name = job.seed, job.fine_tuned_model or job.id
        examples = d.parse_examples(read_blob(self.store, training))
        base_path = _base_model_path(base.config if base else {})
        trainer = Trainer(base_path, threads=self.settings.finetune_threads)
        resume = None
        if last is not None:  # taken over: continue from the last checkpoint
            step, tokens, loss, sha256 = last
            resume = Checkpoint(step=step, tokens=tokens, loss=loss, payload=read_blob(self.store, sha256))
        result = trainer.train(
            examples,
            hp,
            seed=seed,
            resume=resume,
            on_step=lambda p: self._on_step(job_id, p),
            checkpoint_every=self.settings.finetune_checkpoint_every,
            on_checkpoint=lambda c: self._on_checkpoint(job_id, c),
        )
        if result.stopped:
            raise JobLostError(job_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "adapter.gguf"
            trainer.write_adapter(path, name=name)
            blob = self._store_file(path)
        self._finish(job_id, blob.sha256, blob.size, base_path, base, result.compute_flop, result.parameters)

    def _on_step(self, job_id: str, p: Progress) -> bool:
        """Record the step (progress event, counters, heartbeat); False stops training (cancel, takeover)."""
        with self.db.unit_of_work() as session:
            try:
                job = self._held(session, job_id)
            except JobLostError:
                return False
            job.steps_done, job.trained_tokens = p.step, p.tokens
            job.total_steps, job.heartbeat_at = p.total_steps, utcnow()
            data = {
                "step": p.step,
                "train_loss": p.loss,
                "epoch": p.epoch,
                "tokens": p.tokens,
                "total_steps": p.total_steps,
            }
            add_event(
                session,
                job_id,
                f"Step {p.step}/{p.total_steps}: training loss={p.loss:.4f}",
                kind="metrics",
                data=data,
            )
        return True

    def _on_checkpoint(self, job_id: str, c: Checkpoint) -> None:
        writer = self.store.begin_write(max_size=len(c.payload))
        writer.write(c.payload)
        blob = writer.finish()
        with self.db.unit_of_work() as session:
            job = self._held(session, job_id)
            session.add(
                FineTuneCheckpoint(
                    id=new_id("ftckpt"),
                    job_id=job.id,
                    step=c.step,
                    tokens=c.tokens,
                    loss=c.loss,
                    sha256=blob.sha256,
                    created_at=utcnow(),
                )
            )
            add_event(session, job_id, f"Checkpoint saved at step {c.step}")

    def _store_file(self, path: Path) -> StoredBlob:
        writer = self.store.begin_write(max_size=path.stat().st_size)
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                writer.write(chunk)
        return writer.finish()

    def _finish(
        self,
        job_id: str,
        sha256: str,
        size: int,
        base_path: Path,
        base: BindingRecord | None,
        flop: float,
        parameters: int,
    ) -> None:
        """Record the model, serve it to the customer, settle: once, by the worker still holding the job."""
        local = self.store.local_path(sha256)
        with self.db.unit_of_work() as session:
            job = self._held(session, job_id)
            job.compute_flop = flop
            offer = offer_record(session, job.offer_id)
            base_terms = parse_terms(offer.terms if offer else None)
            # the base's inference terms; its free credits were granted once already, on the base's offer
            plan = base_terms.plan.model_copy(update={"free_credits": 0})
            terms = base_terms.model_copy(update={"plan": plan}).model_dump(
                mode="json", exclude={"fine_tuning"}
            )
            summary = (
                f"LoRA r=8 on q/v of {job.model}; training file sha256 {job.training_sha256} "
                f"({job.n_examples} examples, {job.trained_tokens} tokens processed); compute "
                f"{flop:.3e} FLOP measured as 6 x {parameters} parameters x {job.trained_tokens} tokens"
            )
            made = record_fine_tuned_model(
                session,
                FineTuneRecord(
                    slug=job.fine_tuned_model or job.id,
                    base_version_id=job.base_version_id,
                    customer_org_id=job.org_id,
                    provider_org_id=job.provider_org_id,
                    artifact=ArtifactFacts(path="adapter.gguf", sha256=sha256, size=size),
                    compute_flop=flop,
                    data_summary=summary,
                    notes=f"fine-tuning job {job.id}",
                    offer_terms=terms,
                ),
                actor=ACTOR,
            )
            config = {**(base.config if base else {}), "model_path": str(base_path)}
            config.update(lora_path=str(local), lora_sha256=sha256, served_name=job.fine_tuned_model)
            bind_backend(
                session,
                version_id=made.version_id,
                kind="embedded",
                config=config,
                context_length=base.context_length if base else 2048,
                principal=system_principal(org_id=job.provider_org_id),
            )
            entitle_customer(
                session,
                made.offer_id,
                job.org_id,
                actor=ACTOR,
                note=f"fine-tuned for this organisation by job {job.id}",
            )
            job.status, job.finished_at, job.heartbeat_at = "succeeded", utcnow(), None
            add_event(session, job_id, f"New fine-tuned model created: {job.fine_tuned_model}")
            cost = settle(session, job)
            add_event(
                session,
                job_id,
                f"The job has successfully completed ({job.trained_tokens} trained "
                f"tokens, {cost} micro-{job.currency})",
            )

    def _stop_lost(self, job_id: str) -> None:
        """Cancelled (settle the steps done) or taken over by another worker (leave it to that one)."""
        with self.db.unit_of_work() as session:
            job = session.get(FineTuneJob, job_id, with_for_update=True)
            if job is not None and job.status == "cancelled" and job.settled_at is None:
                add_event(session, job_id, f"Training stopped at step {job.steps_done}")
                settle(session, job)

    def _fail(self, job_id: str, exc: Exception) -> None:
        with self.db.unit_of_work() as session:
            job = session.get(FineTuneJob, job_id, with_for_update=True)
            if job is None or job.worker_id != self.worker_id or job.status != "running":
                return
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            job.status, job.error = (
                "failed",
                {"code": "training_failed", "message": message[:2000], "param": None},
            )
            add_event(session, job_id, f"Job failed: {message[:500]}", level="error")
            settle(session, job)


def _base_model_path(config: dict[str, object]) -> Path:
    if config.get("model_path"):
        return Path(str(config["model_path"]))
    from valuechain.runtime.llamacpp import bundled_model_path

    return bundled_model_path()


def run_worker(settings: Settings, *, once: bool = False, parent_pid: int | None = None) -> None:
    """Entry point of ``valuechain worker`` (and of the embedded worker process ``serve`` starts)."""
    from valuechain.core import migrate

    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    worker = Worker(db, LocalBlobStore(settings.resolved_hub_blob_dir), settings)
    try:
        if once:
            while worker.run_once():
                pass
        else:
            worker.run_forever(parent_pid=parent_pid)
    finally:
        db.dispose()
