"""OpenAI's files and fine-tuning objects, ordered like the reference:
https://platform.openai.com/docs/api-reference/files and
https://platform.openai.com/docs/api-reference/fine-tuning
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from valuechain.finetune.records import CheckpointRecord, EventRecord, FileRecord, JobRecord

Auto = Literal["auto"]


class Hyperparameters(BaseModel):
    """Left out or ``auto``: chosen from the dataset's size (``finetune.data``)."""

    model_config = ConfigDict(extra="forbid")

    n_epochs: Auto | int = Field(default="auto", description="Passes over the training file (1–50).")
    batch_size: Auto | int = Field(default="auto", description="Examples per optimizer step (1–256).")
    learning_rate_multiplier: Auto | float = Field(
        default="auto", description="Scales the LoRA learning rate (2e-3 × the multiplier)."
    )

    def given(self) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True)
        for name, low, high in (("n_epochs", 1, 50), ("batch_size", 1, 256)):
            value = values.get(name)
            if isinstance(value, int) and not low <= value <= high:
                raise ValueError(f"hyperparameters.{name} must be between {low} and {high}")
        multiplier = values.get("learning_rate_multiplier")
        if isinstance(multiplier, float | int) and not 0 < multiplier <= 10:
            raise ValueError("hyperparameters.learning_rate_multiplier must be in (0, 10]")
        return values


class Supervised(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)


class Method(BaseModel):
    """Only supervised fine-tuning is offered."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["supervised"] = "supervised"
    supervised: Supervised | None = None


class FineTuningJobCreate(BaseModel):
    """``POST /v1/fine_tuning/jobs``; unknown fields (and unknown hyperparameters) are a 400."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="The base model, as named on /v1/models.")
    training_file: str = Field(description="Id of an uploaded JSONL file of chat examples.")
    hyperparameters: Hyperparameters | None = None
    suffix: str | None = Field(default=None, max_length=64)
    validation_file: str | None = None
    integrations: list[Any] | None = None
    seed: int | None = Field(default=None, ge=0, le=2_147_483_647)
    method: Method | None = None
    metadata: dict[str, str] | None = None


def file_object(f: FileRecord) -> dict[str, Any]:
    return {
        "id": f.id,
        "object": "file",
        "bytes": f.bytes,
        "created_at": int(f.created_at.timestamp()),
        "filename": f.filename,
        "purpose": f.purpose,
        "status": "processed",
        "status_details": None,
        "expires_at": None,
    }


def job_object(j: JobRecord) -> dict[str, Any]:
    hp = j.hyperparameters
    return {
        "id": j.id,
        "object": "fine_tuning.job",
        "created_at": int(j.created_at.timestamp()),
        "error": j.error,
        "fine_tuned_model": j.fine_tuned_model,
        "finished_at": int(j.finished_at.timestamp()) if j.finished_at and j.is_terminal else None,
        "hyperparameters": hp,
        "model": j.model,
        "organization_id": j.org_id,
        "result_files": [],
        "seed": j.seed,
        "status": j.status,
        "trained_tokens": j.trained_tokens if j.is_terminal else None,
        "training_file": j.training_file,
        "validation_file": j.validation_file,
        "estimated_finish": None,
        "integrations": None,
        "metadata": j.metadata,
        "method": {"type": "supervised", "supervised": {"hyperparameters": hp}},
        "user_provided_suffix": j.suffix,
        # extension (valuechain): progress, compute and money of the job
        "x_valuechain": {
            "steps_done": j.steps_done,
            "total_steps": j.total_steps,
            "tokens_processed": j.trained_tokens,
            "compute_flop": j.compute_flop,
            "hold": j.hold,
            "cost": j.cost,
            "currency": j.currency,
            "training_file_sha256": j.training_sha256,
        },
    }


def event_object(e: EventRecord) -> dict[str, Any]:
    return {
        "id": e.id,
        "object": "fine_tuning.job.event",
        "created_at": int(e.created_at.timestamp()),
        "level": e.level,
        "message": e.message,
        "type": e.type,
        "data": e.data,
    }


def checkpoint_object(c: CheckpointRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "fine_tuning.job.checkpoint",
        "created_at": int(c.created_at.timestamp()),
        "fine_tuned_model_checkpoint": c.fine_tuned_model_checkpoint,
        "fine_tuning_job_id": c.job_id,
        "metrics": {"step": float(c.step), "train_loss": c.loss},
        "step_number": c.step,
    }


def page(items: list[dict[str, Any]], *, has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": has_more,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
    }
