"""Serious incidents in the console (issue 13 point 7): the register with the next report owed, registering
an incident and filing its reports (Art. 73; Code of Practice Measure 9.3 for systemic-risk models)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from valuechain.compliance import service as compliance
from valuechain.compliance.incidents import CATEGORIES
from valuechain.console.web import ConsoleRoute, SignedIn, check_csrf, get_db, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/compliance/incidents")
def incident_register(request: Request, visitor: SignedIn) -> Response:
    """The organisation's serious incidents, each with the report owed next and by when."""
    with get_db(request).session() as session:
        rows = compliance.list_incidents(session, principal=visitor.principal)
    return render(request, "incidents.html", visitor, incidents=rows, categories=sorted(CATEGORIES))


@router.post("/compliance/incidents", dependencies=[Depends(check_csrf)])
def register_incident(
    request: Request,
    visitor: SignedIn,
    subject: Annotated[str, Form(min_length=3, max_length=200)],
    category: Annotated[str, Form(max_length=32)],
    aware_on: Annotated[date, Form()],
    description: Annotated[str, Form(min_length=1, max_length=10_000)],
) -> Response:
    """Register a serious incident (Art. 73; CoP Measure 9 for systemic-risk models)."""
    with get_db(request).unit_of_work() as session:
        compliance.open_incident(
            session,
            principal=visitor.principal,
            subject=subject,
            category=category,
            aware_on=aware_on,
            description=description,
        )
    return RedirectResponse("/compliance/incidents", status_code=303)


@router.post("/compliance/incidents/{incident_id}/reports", dependencies=[Depends(check_csrf)])
def file_report(
    request: Request,
    incident_id: str,
    visitor: SignedIn,
    kind: Annotated[str, Form(max_length=16)],
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    resolved_on: Annotated[date | None, Form()] = None,
) -> Response:
    """File an initial, intermediate, complete or final report."""
    with get_db(request).unit_of_work() as session:
        compliance.report_incident(
            session,
            principal=visitor.principal,
            incident_id=incident_id[:40],
            kind=kind,
            text=text,
            resolved_on=resolved_on,
        )
    return RedirectResponse("/compliance/incidents", status_code=303)
