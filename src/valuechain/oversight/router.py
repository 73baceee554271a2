"""HTTP routes of oversight under /api/v1: suspensions, reinstatements, misuse rules and events."""

from __future__ import annotations

from fastapi import APIRouter

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession, WriteSession
from valuechain.oversight import service
from valuechain.oversight.schemas import (
    MisuseEventPublic,
    Reinstated,
    Reinstatement,
    RuleCreate,
    RulePublic,
    SuspensionCreate,
    SuspensionPublic,
)

router = APIRouter(prefix="/api/v1", tags=["api-channel"])


@router.post("/suspensions", status_code=201)
def create_suspension(
    data: SuspensionCreate, session: WriteSession, principal: CurrentPrincipal
) -> SuspensionPublic:
    """Suspend (or throttle) a key or org on your offers; the reason goes to the audit log and the caller."""
    return SuspensionPublic.model_validate(service.suspend(session, principal=principal, **data.model_dump()))


@router.post("/reinstatements")
def reinstate(data: Reinstatement, session: WriteSession, principal: CurrentPrincipal) -> Reinstated:
    """Lift your suspensions of a key or org, with a reason."""
    rows = service.reinstate(session, principal=principal, **data.model_dump())
    return Reinstated(lifted=[r.id for r in rows])


@router.post("/misuse-rules", status_code=201)
def create_rule(data: RuleCreate, session: WriteSession, principal: CurrentPrincipal) -> RulePublic:
    """A misuse rule over your offers' traffic."""
    return RulePublic.model_validate(service.create_rule(session, principal=principal, **data.model_dump()))


@router.get("/misuse-events")
def list_misuse_events(session: ReadSession, principal: CurrentPrincipal) -> list[MisuseEventPublic]:
    """Events raised on your offers."""
    return [MisuseEventPublic.model_validate(e) for e in service.list_events(session, principal=principal)]
