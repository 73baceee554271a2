"""Fine-tuning in the console (``/fine-tuning``): the organisation's jobs, and a page per job with its
status, the loss over steps, events, checkpoints, the resulting model and a cancel button (issue 12)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from valuechain.accounts.authz import Action, is_allowed
from valuechain.console import charts
from valuechain.console.web import ConsoleRoute, SignedIn, Table, check_csrf, get_db, render, twin
from valuechain.finetune import service

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/fine-tuning")
def list_jobs(
    request: Request, visitor: SignedIn, after: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The organisation's fine-tuning jobs, newest first; ``?format=csv|json`` for the table."""
    with get_db(request).session() as session:
        page = service.list_jobs(session, principal=visitor.principal, after=after, limit=50)
    jobs = page.items
    table = Table(
        "jobs",
        ("id", "status", "model", "fine_tuned_model", "steps_done", "total_steps", "created_at"),
        [
            (j.id, j.status, j.model, j.fine_tuned_model, j.steps_done, j.total_steps, j.created_at)
            for j in jobs
        ],
    )
    next_after = jobs[-1].id if page.has_more and jobs else None
    return twin(request, [table]) or render(
        request, "finetune_jobs.html", visitor, jobs=jobs, next_after=next_after
    )


@router.get("/fine-tuning/{job_id}")
def show_job(request: Request, job_id: str, visitor: SignedIn) -> Response:
    """One job (another organisation's: 404, as for a missing one)."""
    principal = visitor.principal
    with get_db(request).session() as session:
        job = service.get_job(session, job_id, principal=principal)
        curve = service.loss_curve(session, job_id, principal=principal)
        events = service.list_events(session, job_id, principal=principal, limit=200).items
        checkpoints = service.list_checkpoints(session, job_id, principal=principal, limit=100).items
    tables = [
        Table("loss", ("step", "train_loss"), [(s, loss) for s, loss in curve]),
        Table(
            "events",
            ("created_at", "level", "type", "message"),
            [(e.created_at, e.level, e.type, e.message) for e in events],
        ),
        Table(
            "checkpoints",
            ("step", "tokens", "loss", "created_at", "name"),
            [(c.step, c.tokens, c.loss, c.created_at, c.fine_tuned_model_checkpoint) for c in checkpoints],
        ),
    ]
    return twin(request, tables) or render(
        request,
        "finetune_job.html",
        visitor,
        job=job,
        chart=charts.line(curve, label="training loss"),
        events=[e for e in events if e.type == "message"],
        checkpoints=checkpoints,
        can_cancel=not job.is_terminal and is_allowed(principal, Action.finetune_write),
    )


@router.post("/fine-tuning/{job_id}/cancel", dependencies=[Depends(check_csrf)])
def cancel_job(request: Request, job_id: str, visitor: SignedIn) -> Response:
    """Cancel the job: a running one stops within one step (its worker settles the steps done)."""
    with get_db(request).unit_of_work() as session:
        service.cancel_job(session, job_id, principal=visitor.principal)
    return Response(status_code=303, headers={"location": f"/fine-tuning/{job_id}"})
