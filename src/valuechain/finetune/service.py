"""Use cases of the fine-tuning service: files and jobs, each one unit of work, authorised once.

Training itself runs in worker processes (``worker.py``); this module is what the API server and the CLI
call: upload and read files, create (validate, price, hold, queue), list, read and cancel jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize, not_found
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, ForbiddenError, QuotaExceededError, ValidationError
from valuechain.core.ids import new_id
from valuechain.finetune import data as d
from valuechain.finetune import events
from valuechain.finetune.models import FineTuneCheckpoint, FineTuneEvent, FineTuneFile, FineTuneJob
from valuechain.finetune.records import (
    CheckpointRecord,
    EventRecord,
    FileRecord,
    JobRecord,
    Page,
)
from valuechain.gateway.access import caller_for
from valuechain.hub.storage import BlobStore
from valuechain.market.ledger import place_hold, settle_hold
from valuechain.market.terms import parse_terms
from valuechain.registry.service import offer_record

PURPOSES = ("fine-tune",)
MAX_FILE_BYTES = 64 * 1024 * 1024


# --- files -------------------------------------------------------------------------------------------


def upload_file(
    session: Session, store: BlobStore, *, principal: Principal, filename: str, purpose: str, content: bytes
) -> FileRecord:
    """Store a JSONL file in the blob store (content-addressed) and record it for the caller's org."""
    authorize(principal, Action.finetune_write)
    if purpose not in PURPOSES:
        raise ValidationError(f"purpose must be one of: {', '.join(PURPOSES)}")
    lines = d.check_jsonl(content)
    writer = store.begin_write(max_size=MAX_FILE_BYTES)
    writer.write(content)
    blob = writer.finish(expected_size=len(content))
    row = FineTuneFile(
        id=new_id("file"),
        org_id=principal.org_id,
        filename=filename[:255] or "file.jsonl",
        purpose=purpose,
        sha256=blob.sha256,
        bytes=blob.size,
        lines=lines,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.file_create,
        subject_type="file",
        subject_id=row.id,
        after={"filename": row.filename, "sha256": row.sha256, "bytes": row.bytes},
    )
    return FileRecord.of(row)


def _file(session: Session, file_id: str, principal: Principal, action: Action) -> FineTuneFile:
    row = session.get(FineTuneFile, file_id)
    if row is None or row.deleted_at is not None:
        raise not_found("file", file_id)
    authorize(principal, action, Resource("file", file_id, row.org_id))
    return row


def get_file(session: Session, file_id: str, *, principal: Principal) -> FileRecord:
    return FileRecord.of(_file(session, file_id, principal, Action.finetune_read))


def list_files(session: Session, *, principal: Principal, purpose: str | None = None) -> list[FileRecord]:
    authorize(principal, Action.finetune_read)
    query = select(FineTuneFile).where(
        FineTuneFile.org_id == principal.org_id, FineTuneFile.deleted_at.is_(None)
    )
    if purpose:
        query = query.where(FineTuneFile.purpose == purpose)
    return [
        FileRecord.of(r)
        for r in session.scalars(query.order_by(FineTuneFile.created_at.desc(), FineTuneFile.id.desc()))
    ]


def file_content(session: Session, store: BlobStore, file_id: str, *, principal: Principal) -> bytes:
    row = _file(session, file_id, principal, Action.finetune_read)
    return read_blob(store, row.sha256)


def delete_file(session: Session, file_id: str, *, principal: Principal) -> str:
    """Forget the file (its blob stays: content-addressed blobs may be shared)."""
    row = _file(session, file_id, principal, Action.finetune_write)
    row.deleted_at = utcnow()
    record_event(
        session,
        actor=principal.actor,
        org_id=row.org_id,
        action=events.file_delete,
        subject_type="file",
        subject_id=row.id,
    )
    return row.id


def read_blob(store: BlobStore, sha256: str) -> bytes:
    return b"".join(store.read_range(sha256))


# --- jobs --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobCreate:
    """A validated ``POST /v1/fine_tuning/jobs`` body."""

    model: str
    training_file: str
    validation_file: str | None = None
    hyperparameters: dict[str, Any] | None = None
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] | None = None


def create_job(session: Session, store: BlobStore, request: JobCreate, *, principal: Principal) -> JobRecord:
    """Validate the data, check the base may be fine-tuned, hold the upper cost, queue the job."""
    authorize(principal, Action.finetune_write)
    suffix = d.check_suffix(request.suffix)
    training = _file(session, request.training_file, principal, Action.finetune_read)
    route = caller_for(session, principal).route(request.model)  # 404 unknown, 403 not entitled
    tuning = route.terms.fine_tuning
    if tuning is None:
        raise ForbiddenError(f"the provider of `{request.model}` does not offer fine-tuning of it")
    examples = d.parse_examples(read_blob(store, training.sha256))  # 400 naming the bad line
    if request.validation_file:
        validation = _file(session, request.validation_file, principal, Action.finetune_read)
        d.parse_examples(read_blob(store, validation.sha256))
    hp = d.resolve_hyperparameters(request.hyperparameters or {}, len(examples))
    upper = d.content_bytes(examples) * hp.n_epochs
    if upper > tuning.max_trained_tokens:
        raise ValidationError(
            f"the job may train up to {upper} tokens; this offer allows {tuning.max_trained_tokens}"
        )
    job_id = new_id("ftjob")
    hold = tuning.cost(upper)
    currency = route.terms.plan.currency
    if not place_hold(
        session,
        org_id=principal.org_id,
        amount=hold,
        idempotency_key=f"ft-hold:{job_id}",
        memo=f"fine-tuning job {job_id}",
        currency=currency,
    ):
        raise QuotaExceededError(
            f"You exceeded your current quota: the balance does not cover this job's upper cost ({hold} "
            f"micro-{currency}); add credits or train fewer tokens."
        )
    row = FineTuneJob(
        id=job_id,
        org_id=principal.org_id,
        created_by=principal.actor,
        model=request.model,
        base_version_id=route.version_id,
        offer_id=route.offer_id,
        provider_org_id=route.provider_org_id,
        training_file_id=training.id,
        validation_file_id=request.validation_file,
        training_sha256=training.sha256,
        n_examples=len(examples),
        hyperparameters={
            "n_epochs": hp.n_epochs,
            "batch_size": hp.batch_size,
            "learning_rate_multiplier": hp.learning_rate_multiplier,
        },
        suffix=suffix,
        seed=request.seed if request.seed is not None else 42,
        meta=request.metadata,
        status="queued",
        created_at=utcnow(),
        attempts=0,
        steps_done=0,
        total_steps=hp.steps(len(examples)),
        trained_tokens=0,
        hold=hold,
        currency=currency,
        fine_tuned_model=d.fine_tuned_name(
            base=request.model, org_slug=principal.org_slug, suffix=suffix, job_id=job_id
        ),
    )
    session.add(row)
    session.flush()
    add_event(session, job_id, f"Validating training file: {training.id}")
    add_event(session, job_id, f"Files validated ({len(examples)} examples), moving job to queued state")
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.job_create,
        subject_type="fine_tuning_job",
        subject_id=job_id,
        after={
            "model": request.model,
            "training_file": training.id,
            "hyperparameters": row.hyperparameters,
            "hold": hold,
        },
    )
    return JobRecord.of(row)


def _job(session: Session, job_id: str, principal: Principal, action: Action) -> FineTuneJob:
    row = session.get(FineTuneJob, job_id)
    if row is None:
        raise not_found("fine-tuning job", job_id)
    authorize(principal, action, Resource("fine-tuning job", job_id, row.org_id))
    return row


def get_job(session: Session, job_id: str, *, principal: Principal) -> JobRecord:
    return JobRecord.of(_job(session, job_id, principal, Action.finetune_read))


def list_jobs(session: Session, *, principal: Principal, after: str | None = None, limit: int = 20) -> Page:
    """The caller's jobs, newest first (ids are time-ordered), ``limit`` after the job ``after``."""
    authorize(principal, Action.finetune_read)
    query = select(FineTuneJob).where(FineTuneJob.org_id == principal.org_id)
    rows = _newest_first(session, query, FineTuneJob, after, limit)
    return Page([JobRecord.of(r) for r in rows[:limit]], has_more=len(rows) > limit)


def list_events(
    session: Session, job_id: str, *, principal: Principal, after: str | None = None, limit: int = 20
) -> Page:
    """A job's events, newest first."""
    _job(session, job_id, principal, Action.finetune_read)
    query = select(FineTuneEvent).where(FineTuneEvent.job_id == job_id)
    rows = _newest_first(session, query, FineTuneEvent, after, limit)
    return Page([EventRecord.of(r) for r in rows[:limit]], has_more=len(rows) > limit)


def list_checkpoints(
    session: Session, job_id: str, *, principal: Principal, after: str | None = None, limit: int = 10
) -> Page:
    """A job's checkpoints, newest first."""
    job = _job(session, job_id, principal, Action.finetune_read)
    query = select(FineTuneCheckpoint).where(FineTuneCheckpoint.job_id == job_id)
    rows = _newest_first(session, query, FineTuneCheckpoint, after, limit)
    name = job.fine_tuned_model or job.id
    items = [CheckpointRecord.of(r, d.checkpoint_name(name, r.step)) for r in rows[:limit]]
    return Page(items, has_more=len(rows) > limit)


def _newest_first(session: Session, query: Any, table: Any, after: str | None, limit: int) -> list[Any]:
    """``limit + 1`` rows by (created_at, id) descending, after the row ``after`` (ids are time-ordered only
    to the millisecond: rows written in one transaction need their timestamps)."""
    if after:
        mark = session.scalar(select(table.created_at).where(table.id == after))
        if mark is not None:
            query = query.where(
                or_(table.created_at < mark, and_(table.created_at == mark, table.id < after))
            )
    return list(session.scalars(query.order_by(table.created_at.desc(), table.id.desc()).limit(limit + 1)))


def cancel_job(session: Session, job_id: str, *, principal: Principal) -> JobRecord:
    """Cancel: a queued job is settled now (nothing trained, nothing charged); a running one stops after
    its current step, and its worker settles the steps done."""
    row = session.get(FineTuneJob, job_id, with_for_update=True)
    if row is None:
        raise not_found("fine-tuning job", job_id)
    authorize(principal, Action.finetune_write, Resource("fine-tuning job", job_id, row.org_id))
    if row.status in ("succeeded", "failed", "cancelled"):
        raise ConflictError(f"the job is already {row.status}")
    was_queued = row.status == "queued"
    row.status = "cancelled"
    add_event(session, job_id, "Job cancelled" + (" before it started" if was_queued else ""))
    record_event(
        session,
        actor=principal.actor,
        org_id=row.org_id,
        action=events.job_cancel,
        subject_type="fine_tuning_job",
        subject_id=job_id,
    )
    if was_queued:
        settle(session, row)
    return JobRecord.of(row)


# --- shared with the worker ------------------------------------------------------------------------


def add_event(
    session: Session,
    job_id: str,
    message: str,
    *,
    level: str = "info",
    kind: str = "message",
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        FineTuneEvent(
            id=new_id("ftevent"),
            job_id=job_id,
            created_at=utcnow(),
            level=level,
            type=kind,
            message=message,
            data=data,
        )
    )


def settle(session: Session, row: FineTuneJob) -> int:
    """Charge the tokens of the steps done on the offer's terms and release the rest of the hold; once."""
    if row.settled_at is not None:
        return row.cost or 0
    offer = offer_record(session, row.offer_id)
    tuning = parse_terms(offer.terms if offer else None).fine_tuning
    charge = tuning.cost(row.trained_tokens) if tuning is not None else 0
    cost = settle_hold(
        session,
        org_id=row.org_id,
        provider_org_id=row.provider_org_id,
        held=row.hold,
        charge=charge,
        idempotency_key=f"ft-settle:{row.id}",
        memo=f"fine-tuning job {row.id}: {row.trained_tokens} tokens",
        currency=row.currency,
    )
    row.cost, row.settled_at = cost, utcnow()
    row.finished_at = row.finished_at or row.settled_at
    record_event(
        session,
        actor="finetune",
        org_id=row.org_id,
        action=events.job_finish,
        subject_type="fine_tuning_job",
        subject_id=row.id,
        after={"status": row.status, "trained_tokens": row.trained_tokens, "cost": cost},
    )
    return cost
