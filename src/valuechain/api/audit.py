"""HTTP routes of the audit log: an organisation's events, and chain verification for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.anchor import Anchor
from valuechain.core.audit import AuditEvent, verify_chain
from valuechain.core.http import ReadSession, SettingsDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class EventPublic(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: Any
    after: Any
    reason: str | None
    hash: str


class VerifyPublic(BaseModel):
    ok: bool
    events: int
    checkpoints: int = Field(description="Signed checkpoints (HOME/audit) the chain was checked against.")
    problems: list[str]


@router.get("")
def list_events(
    session: ReadSession,
    principal: CurrentPrincipal,
    after_seq: int = Query(default=0, ge=0, le=2**62),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[EventPublic]:
    """Events of the caller's organisation, oldest first, paged by sequence number."""
    authorize(principal, Action.audit_read)
    query = select(AuditEvent).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq).limit(limit)
    if not principal.is_operator:
        query = query.where(AuditEvent.org_id == principal.org_id)
    return [EventPublic.model_validate(e, from_attributes=True) for e in session.scalars(query)]


@router.get("/verify")
def verify(session: ReadSession, principal: CurrentPrincipal, settings: SettingsDep) -> VerifyPublic:
    """Recompute the whole hash chain and check it against its signed checkpoints (platform operators)."""
    authorize(principal, Action.audit_verify)
    result = verify_chain(session, anchor=Anchor.of_home(settings.home))
    return VerifyPublic(
        ok=result.ok, events=result.events, checkpoints=result.checkpoints, problems=result.problems
    )
