"""Complaints of affected persons in the console (issue 13 point 8): the public form (no account) with its
tracking page, and the inbox where the organisations a complaint is routed to answer it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from valuechain.compliance import records
from valuechain.compliance import service as compliance
from valuechain.console.web import (
    LOGIN_CSRF_COOKIE,
    ConsoleRoute,
    CurrentVisitor,
    SignedIn,
    check_csrf,
    get_db,
    new_login_csrf,
    render,
)

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/complain")
def complaint_form(request: Request, visitor: CurrentVisitor, subject: str = "") -> Response:
    """The public complaint form: no account; an anonymous visitor gets a double-submit CSRF cookie."""
    token = visitor.session.csrf_token if visitor.session is not None else new_login_csrf()
    response = render(request, "complain.html", visitor, form_csrf=token, subject=subject[:200], error=None)
    if visitor.session is None:
        secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/complain"
        )
    return response


@router.post("/complain", dependencies=[Depends(check_csrf)])
def submit_complaint(
    request: Request,
    visitor: CurrentVisitor,
    subject: Annotated[str, Form(min_length=3, max_length=200)],
    text: Annotated[str, Form(min_length=10, max_length=10_000)],
) -> Response:
    """File the complaint (rate limited per client, as on the API) and go to its tracking page."""
    client = request.client.host if request.client else "unknown"
    with get_db(request).unit_of_work() as session:
        rec = compliance.submit_complaint(session, subject=subject, text=text, client=client)
    return RedirectResponse(f"/complaints/{rec.id}", status_code=303)


@router.get("/complaints/{complaint_id}")
def track_complaint(request: Request, complaint_id: str, visitor: CurrentVisitor) -> Response:
    """Follow a complaint by its tracking id (no account): status and answers, not the text."""
    with get_db(request).session() as session:
        rec = records.complaint_status(session, complaint_id[:40])
    return render(request, "complaint.html", visitor, complaint=rec)


@router.get("/compliance/complaints")
def complaint_inbox(request: Request, visitor: SignedIn) -> Response:
    """Complaints routed to the visitor's organisation, with a form to answer each."""
    with get_db(request).session() as session:
        rows = records.list_complaints(session, principal=visitor.principal)
    return render(request, "complaints.html", visitor, complaints=rows)


@router.post("/compliance/complaints/{complaint_id}/answer", dependencies=[Depends(check_csrf)])
def answer_complaint(
    request: Request,
    complaint_id: str,
    visitor: SignedIn,
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    close: Annotated[bool, Form()] = False,
) -> Response:
    """Answer (and optionally close) a complaint routed to the visitor's organisation."""
    with get_db(request).unit_of_work() as session:
        records.answer_complaint(
            session, principal=visitor.principal, complaint_id=complaint_id[:40], text=text, close=close
        )
    return RedirectResponse("/compliance/complaints", status_code=303)
