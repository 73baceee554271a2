"""Audit event types of the fine-tuning service: files and jobs (issue 12)."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class FileCreatePayload(Payload):
    filename: str
    sha256: str
    bytes: int


class JobCreatePayload(Payload):
    model: str
    training_file: str
    hyperparameters: dict[str, object]
    hold: int


class JobFinishPayload(Payload):
    status: str
    trained_tokens: int
    cost: int


file_create = EventType("finetune.file.create", "file", "A training file was uploaded.", FileCreatePayload)
file_delete = EventType("finetune.file.delete", "file", "An uploaded file was deleted.")
job_create = EventType(
    "finetune.job.create", "fine_tuning_job", "A fine-tuning job was queued.", JobCreatePayload
)
job_cancel = EventType("finetune.job.cancel", "fine_tuning_job", "A fine-tuning job was cancelled.")
job_finish = EventType(
    "finetune.job.finish", "fine_tuning_job", "A fine-tuning job ended and was settled.", JobFinishPayload
)

declare("finetune", file_create, file_delete, job_create, job_cancel, job_finish)
