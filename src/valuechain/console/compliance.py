"""Compliance (``/compliance``): obligations by actor and model, what-if on facts, channel neutrality."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from valuechain.compliance import service as compliance
from valuechain.compliance.engine import Diff, Evaluation
from valuechain.compliance.neutrality import NeutralityReport
from valuechain.console.web import ConsoleRoute, CurrentVisitor, SignedIn, Table, get_db, render, twin
from valuechain.core.errors import AppError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50


def _obligations_table(
    result: Evaluation, *, actor: str | None, model: str | None, status: str | None
) -> Table:
    rows = [
        (
            o.actor,
            o.subject,
            o.rule,
            o.citation,
            o.scope,
            o.status,
            o.applies_from,
            o.due,
            "; ".join(o.because),
        )
        for o in result.obligations
        if (not actor or o.actor == actor)
        and (not model or o.subject == model)
        and (not status or o.status == status)
    ]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return Table(
        "obligations",
        ("actor", "subject", "rule", "citation", "scope", "status", "applies_from", "due", "because"),
        rows,
    )


@router.get("/compliance")
async def show_compliance(
    request: Request,
    visitor: SignedIn,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The organisation's obligations (and the classification of the models it may see), filtered."""

    def evaluate() -> Evaluation:
        with get_db(request).session() as session:
            return compliance.list_obligations(session, principal=visitor.principal)

    result = await asyncio.to_thread(evaluate)  # the whole chain is evaluated: off the event loop
    table = _obligations_table(result, actor=actor or None, model=model or None, status=status or None)
    classification = Table(
        "models",
        ("model", "classification"),
        [(m.fact.id, m.gpai_reason) for m in result.models],
    )
    start = (page - 1) * PAGE
    return twin(request, [table, classification]) or render(
        request,
        "compliance.html",
        visitor,
        table=table,
        rows=table.rows[start : start + PAGE],
        page=page,
        has_more=len(table.rows) > start + PAGE,
        actors=sorted({o.actor for o in result.obligations}),
        subjects=sorted({o.subject for o in result.obligations}),
        statuses=sorted({o.status for o in result.obligations}),
        classification=classification,
        notes=result.notes,
        filters={"actor": actor, "model": model, "status": status},
    )


@router.get("/compliance/whatif")
async def show_whatif(
    request: Request,
    visitor: SignedIn,
    change: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> Response:
    """Re-evaluate with changed facts (in memory, nothing written) and show what would change."""
    changes = [c for c in (change or []) if c.strip()]
    diff: Diff | None = None
    error = None
    if changes:

        def evaluate() -> Diff:
            with get_db(request).session() as session:
                return compliance.whatif_obligations(session, changes, principal=visitor.principal)

        try:
            diff = await asyncio.to_thread(evaluate)
        except AppError as exc:  # a bad expression is shown next to the form, not as an error page
            error = str(exc)
    rows = []
    if diff is not None:
        rows += [("added", o.actor, o.subject, o.rule, o.citation, o.status) for o in diff.added]
        rows += [("removed", o.actor, o.subject, o.rule, o.citation, o.status) for o in diff.removed]
        rows += [
            ("changed", b.actor, b.subject, b.rule, b.citation, f"{a.status} → {b.status}")
            for a, b in diff.changed
        ]
    table = Table("whatif", ("change", "actor", "subject", "rule", "citation", "status"), rows)
    return twin(request, [table]) or render(
        request, "whatif.html", visitor, changes=changes, diff=diff, table=table, error=error
    )


@router.get("/compliance/neutrality")
async def show_neutrality(
    request: Request, visitor: CurrentVisitor, model: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    """Which duties of a model are the same whatever the channel, and which differ and why."""
    report: NeutralityReport | None = None
    if model:

        def evaluate() -> NeutralityReport:
            with get_db(request).session() as session:
                return compliance.model_neutrality(session, model, principal=visitor.principal)

        report = await asyncio.to_thread(evaluate)
    rows = []
    if report is not None:
        rows += [
            ("identical", d.rule, d.citation, d.title, " ".join(d.channels), d.why) for d in report.identical
        ]
        rows += [
            ("differs", d.rule, d.citation, d.title, " ".join(d.channels), d.why) for d in report.differing
        ]
    table = Table("neutrality", ("kind", "rule", "citation", "title", "channels", "why"), rows)
    return twin(request, [table]) or render(
        request, "neutrality.html", visitor, model=model, report=report, table=table
    )
