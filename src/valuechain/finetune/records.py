"""Typed records the fine-tuning service returns (the protocol layer turns them into OpenAI objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from valuechain.finetune.models import FineTuneCheckpoint, FineTuneEvent, FineTuneFile, FineTuneJob

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: str
    org_id: str
    filename: str
    purpose: str
    sha256: str
    bytes: int
    created_at: datetime

    @classmethod
    def of(cls, row: FineTuneFile) -> FileRecord:
        return cls(row.id, row.org_id, row.filename, row.purpose, row.sha256, row.bytes, row.created_at)


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    org_id: str
    model: str
    training_file: str
    validation_file: str | None
    hyperparameters: dict[str, Any]
    suffix: str | None
    seed: int
    metadata: dict[str, Any] | None
    status: str
    fine_tuned_model: str | None
    error: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None
    steps_done: int
    total_steps: int
    trained_tokens: int
    compute_flop: float | None
    hold: int
    cost: int | None
    currency: str
    provider_org_id: str
    training_sha256: str

    @classmethod
    def of(cls, row: FineTuneJob) -> JobRecord:
        return cls(
            id=row.id,
            org_id=row.org_id,
            model=row.model,
            training_file=row.training_file_id,
            validation_file=row.validation_file_id,
            hyperparameters=dict(row.hyperparameters),
            suffix=row.suffix,
            seed=row.seed,
            metadata=row.meta,
            status=row.status,
            fine_tuned_model=row.fine_tuned_model if row.status == "succeeded" else None,
            error=row.error,
            created_at=row.created_at,
            finished_at=row.finished_at,
            steps_done=row.steps_done,
            total_steps=row.total_steps,
            trained_tokens=row.trained_tokens,
            compute_flop=row.compute_flop,
            hold=row.hold,
            cost=row.cost,
            currency=row.currency,
            provider_org_id=row.provider_org_id,
            training_sha256=row.training_sha256,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    created_at: datetime
    level: str
    type: str
    message: str
    data: dict[str, Any] | None

    @classmethod
    def of(cls, row: FineTuneEvent) -> EventRecord:
        return cls(row.id, row.created_at, row.level, row.type, row.message, row.data)


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    id: str
    job_id: str
    step: int
    tokens: int
    loss: float
    created_at: datetime
    fine_tuned_model_checkpoint: str

    @classmethod
    def of(cls, row: FineTuneCheckpoint, name: str) -> CheckpointRecord:
        return cls(row.id, row.job_id, row.step, row.tokens, row.loss, row.created_at, name)


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list (OpenAI's cursor paging: ``after`` an id, ``limit``)."""

    items: list[Any]
    has_more: bool
