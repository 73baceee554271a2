"""``valuechain finetune``: fine-tuning jobs of an organisation (``--as ORG``), run by the workers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import say, table

app = typer.Typer(help="Fine-tuning jobs: a customer's model trained on the provider's machines.")

JobArg = typer.Argument(..., help="The job id (ftjob_…).")


def _store() -> Any:
    from valuechain.core.settings import Settings
    from valuechain.hub.storage import LocalBlobStore

    return LocalBlobStore(Settings().resolved_hub_blob_dir)


@app.command("create")
def create(
    training_file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Chat-format JSONL."),
    model: str = typer.Option(..., "--model", "-m", help="The base model, as named on /v1/models."),
    suffix: str = typer.Option(None, help="Up to 64 characters in the fine-tuned model's name."),
    epochs: int = typer.Option(None, "--epochs", min=1, max=50, help="Default: auto."),
    batch_size: int = typer.Option(None, "--batch-size", min=1, max=256, help="Default: auto."),
    lr_multiplier: float = typer.Option(None, "--lr-multiplier", min=0.0, help="Default: auto."),
    seed: int = typer.Option(None, help="Seed of the example order and initialisation."),
    wait: bool = typer.Option(False, "--wait", help="Follow the job with a progress bar until it ends."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Upload a training file and queue a job (a worker trains it: `valuechain worker`)."""
    from valuechain.finetune import protocol, service

    hp = {
        k: v
        for k, v in {
            "n_epochs": epochs,
            "batch_size": batch_size,
            "learning_rate_multiplier": lr_multiplier,
        }.items()
        if v is not None
    }
    store = _store()
    with database() as db, db.unit_of_work() as session:
        principal = acting(session, as_org)
        f = service.upload_file(
            session,
            store,
            principal=principal,
            filename=training_file.name,
            purpose="fine-tune",
            content=training_file.read_bytes(),
        )
        request = service.JobCreate(
            model=model, training_file=f.id, hyperparameters=hp, suffix=suffix, seed=seed
        )
        job = service.create_job(session, store, request, principal=principal)
    say(err, f"queued {job.id}: {job.fine_tuned_model} will be trained by a worker")
    if wait:
        job = _follow(job.id, as_org)
    emit(protocol.job_object(job), fmt, _show)


def _follow(job_id: str, as_org: str | None) -> Any:
    """A progress bar of the job's steps until it succeeds, fails or is cancelled."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from valuechain.finetune import service

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with database() as db, Progress(*columns, console=err) as bar:
        task = bar.add_task("queued", total=None)
        while True:
            with db.session() as session:
                job = service.get_job(session, job_id, principal=acting(session, as_org))
            bar.update(task, description=job.status, completed=job.steps_done, total=job.total_steps or None)
            if job.is_terminal:
                return job
            time.sleep(1.0)


@app.command("list")
def list_jobs(
    limit: int = typer.Option(20, min=1, max=100), as_org: str = AsOrgOption, fmt: Format = FormatOption
) -> None:
    """Fine-tuning jobs, newest first."""
    from valuechain.finetune import protocol, service

    with database() as db, db.session() as session:
        page = service.list_jobs(session, principal=acting(session, as_org), limit=limit)
    jobs = [protocol.job_object(j) for j in page.items]
    emit(
        jobs,
        fmt,
        lambda rows: out.print(
            table(
                ["id", "status", "model", "fine-tuned model", "steps"],
                [
                    [
                        j["id"],
                        j["status"],
                        j["model"],
                        j["fine_tuned_model"] or "",
                        f"{j['x_valuechain']['steps_done']}/{j['x_valuechain']['total_steps']}",
                    ]
                    for j in rows
                ],
                ids=["id"],
            )
        ),
    )


@app.command("show")
def show(job_id: str = JobArg, as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """One job: status, hyperparameters, progress, compute and cost."""
    from valuechain.finetune import protocol, service

    with database() as db, db.session() as session:
        job = service.get_job(session, job_id, principal=acting(session, as_org))
    emit(protocol.job_object(job), fmt, _show)


def _show(job: dict[str, Any]) -> None:
    x = job["x_valuechain"]
    rows = [
        ["status", job["status"]],
        ["model", job["model"]],
        ["fine-tuned model", job["fine_tuned_model"] or ""],
        ["hyperparameters", str(job["hyperparameters"])],
        ["steps", f"{x['steps_done']}/{x['total_steps']}"],
        ["tokens processed", str(x["tokens_processed"])],
        ["compute (FLOP)", f"{x['compute_flop']:.3e}" if x["compute_flop"] else ""],
        [
            "held / charged",
            f"{x['hold']} / {x['cost'] if x['cost'] is not None else '-'} micro-{x['currency']}",
        ],
        ["error", (job["error"] or {}).get("message", "")],
    ]
    out.print(table(["field", "value"], rows))


@app.command("events")
def events(
    job_id: str = JobArg,
    limit: int = typer.Option(50, min=1, max=1000),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """A job's events, oldest first."""
    from valuechain.finetune import protocol, service

    with database() as db, db.session() as session:
        page = service.list_events(session, job_id, principal=acting(session, as_org), limit=limit)
    items = [protocol.event_object(e) for e in reversed(page.items)]
    emit(
        items,
        fmt,
        lambda rows: out.print(
            table(
                ["created", "level", "message"],
                [
                    [time.strftime("%H:%M:%S", time.gmtime(e["created_at"])), e["level"], e["message"]]
                    for e in rows
                ],
            )
        ),
    )


@app.command("cancel")
def cancel(job_id: str = JobArg, as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Cancel a job: a running one stops within one step and is charged for the steps done."""
    from valuechain.finetune import protocol, service

    with database() as db, db.unit_of_work() as session:
        job = service.cancel_job(session, job_id, principal=acting(session, as_org))
    emit(protocol.job_object(job), fmt, _show)
