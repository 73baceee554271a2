"""Tables of the fine-tuning domain: uploaded files, jobs (the queue of the embedded worker), their events
and checkpoints. Only ``finetune`` writes them; file contents live in the blob store, by sha256."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class FineTuneFile(Base):
    """An uploaded file (``purpose`` fine-tune), owned by one organisation."""

    __tablename__ = "finetune_files"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # file-…
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInt)
    lines: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FineTuneJob(Base):
    """A fine-tuning job: what to train, its state in the queue, and what it produced and cost."""

    __tablename__ = "finetune_jobs"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # ftjob-…
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(200))  # the audit actor who created it
    model: Mapped[str] = mapped_column(String(200))  # the base model's name on /v1
    base_version_id: Mapped[str] = mapped_column(String(40))
    offer_id: Mapped[str] = mapped_column(String(40))  # the base's api offer whose terms price training
    provider_org_id: Mapped[str] = mapped_column(String(40))
    training_file_id: Mapped[str] = mapped_column(String(40))
    validation_file_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    training_sha256: Mapped[str] = mapped_column(String(64))
    n_examples: Mapped[int] = mapped_column(Integer)
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    suffix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seed: Mapped[int] = mapped_column(Integer)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    fine_tuned_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the queue: which worker holds it, its last heartbeat, how many times it was claimed
    worker_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # progress and money
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    trained_tokens: Mapped[int] = mapped_column(BigInt, default=0)
    compute_flop: Mapped[float | None] = mapped_column(Float, nullable=True)
    hold: Mapped[int] = mapped_column(BigInt, default=0)  # micro-units held on the wallet at creation
    cost: Mapped[int | None] = mapped_column(BigInt, nullable=True)  # charged at settlement
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FineTuneEvent(Base):
    """A job's event: a message, or a step's metrics."""

    __tablename__ = "finetune_events"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # ftevent-…
    job_id: Mapped[str] = mapped_column(ForeignKey("finetune_jobs.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(8))  # info | warn | error
    type: Mapped[str] = mapped_column(String(16))  # message | metrics
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class FineTuneCheckpoint(Base):
    """Adapter and optimizer state after a step, in the blob store; a killed job resumes from the last."""

    __tablename__ = "finetune_checkpoints"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # ftckpt-…
    job_id: Mapped[str] = mapped_column(ForeignKey("finetune_jobs.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int] = mapped_column(BigInt)
    loss: Mapped[float] = mapped_column(Float)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
