"""The audit log (``/audit``): the organisation's events with filters and paging, chain verification."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from valuechain.accounts.authz import Action, authorize, is_allowed
from valuechain.console.web import ConsoleRoute, SignedIn, Table, get_db, render, twin
from valuechain.core.anchor import Anchor
from valuechain.core.audit import VerifyResult, event_page, verify_chain

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/audit")
def show_audit(
    request: Request,
    visitor: SignedIn,
    action: Annotated[str | None, Query(max_length=100, description="`key.create`, or `key.*`")] = None,
    since: date | None = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Events of the organisation (operators: all), newest first."""
    principal = visitor.principal
    authorize(principal, Action.audit_read)
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    with get_db(request).session() as session:
        events = event_page(
            session,
            org_id=None if principal.is_operator else principal.org_id,
            action=action or None,
            since=start,
            before_seq=before,
            limit=limit,
        )
        rows = [
            (e.seq, e.at, e.actor, e.action, e.subject_type, e.subject_id, e.reason, e.hash) for e in events
        ]
    table = Table(
        "events", ("seq", "at", "actor", "action", "subject_type", "subject_id", "reason", "hash"), rows
    )
    return twin(request, [table]) or render(
        request,
        "audit.html",
        visitor,
        table=table,
        next_before=rows[-1][0] if len(rows) == limit else None,
        action=action,
        since=since,
        can_verify=is_allowed(principal, Action.audit_verify),
    )


@router.get("/audit/verify")
async def verify_audit(request: Request, visitor: SignedIn) -> Response:
    """Walk the whole hash chain and its signed checkpoints (operators; an htmx fragment)."""
    authorize(visitor.principal, Action.audit_verify)

    def verify() -> VerifyResult:
        with get_db(request).session() as session:
            return verify_chain(session, anchor=Anchor.of_home(request.app.state.settings.home))

    result = await asyncio.to_thread(verify)
    return render(request, "_verify.html", visitor, result=result)
