"""What the web console shows of oversight: misuse events and suspensions with their reasons.

Typed records, newest first and capped; a provider's admins see their own, operators all, others none
(the same rule as ``service.list_events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize, is_allowed
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.oversight.models import MisuseEvent, Suspension

PAGE_MAX = 200


@dataclass(frozen=True, slots=True)
class EventRow:
    id: str
    at: datetime
    org: str
    key_id: str | None
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SuspensionRow:
    id: str
    subject_type: str
    subject: str
    kind: str
    throttle_rpm: int | None
    reason: str
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lift_reason: str | None


def recent_events(session: Session, *, principal: Principal, limit: int = 50) -> list[EventRow]:
    """Misuse events on the caller's offers."""
    authorize(principal, Action.oversight_list)
    if not is_allowed(principal, Action.oversight_read):
        return []
    query = select(MisuseEvent).order_by(MisuseEvent.created_at.desc()).limit(max(1, min(limit, PAGE_MAX)))
    if not principal.is_operator:
        query = query.where(MisuseEvent.provider_org_id == principal.org_id)
    events = list(session.scalars(query))
    slugs = slugs_for_ids(session, (e.org_id for e in events))
    return [
        EventRow(e.id, e.created_at, slugs.get(e.org_id, e.org_id), e.key_id, e.action, dict(e.detail or {}))
        for e in events
    ]


def suspensions(session: Session, *, principal: Principal, limit: int = 50) -> list[SuspensionRow]:
    """Suspensions and throttles the caller's organisation imposed, in force first."""
    authorize(principal, Action.oversight_list)
    if not is_allowed(principal, Action.oversight_read):
        return []
    query = (
        select(Suspension)
        .order_by(Suspension.lifted_at.is_not(None), Suspension.created_at.desc())
        .limit(max(1, min(limit, PAGE_MAX)))
    )
    if not principal.is_operator:
        query = query.where(Suspension.provider_org_id == principal.org_id)
    rows = list(session.scalars(query))
    slugs = slugs_for_ids(session, (s.subject_id for s in rows if s.subject_type == "org"))
    return [
        SuspensionRow(
            s.id,
            s.subject_type,
            slugs.get(s.subject_id, s.subject_id),
            s.kind,
            s.throttle_rpm,
            s.reason,
            s.created_at,
            s.created_by,
            s.lifted_at,
            s.lift_reason,
        )
        for s in rows
    ]
