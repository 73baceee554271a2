"""REST routes of the API channel under /api/v1: usage reports, entitlements, suspensions, misuse rules."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from valuechain.api.deps import CurrentPrincipal, ReadSession, WriteSession
from valuechain.gateway.usage import usage_report
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms
from valuechain.oversight import service as oversight

router = APIRouter(prefix="/api/v1", tags=["api-channel"])


class SuspensionCreate(BaseModel):
    subject_type: Literal["key", "org"]
    subject_id: str = Field(description="Key id or prefix; org id or slug.")
    reason: str = Field(min_length=1, max_length=2000)
    kind: Literal["suspend", "throttle"] = "suspend"
    throttle_rpm: int | None = Field(default=None, ge=1)


class Reinstatement(BaseModel):
    subject_type: Literal["key", "org"]
    subject_id: str
    reason: str = Field(min_length=1, max_length=2000)


class RuleCreate(BaseModel):
    name: str = Field(max_length=200)
    kind: Literal["pattern", "rate"]
    action: Literal["flag", "throttle", "suspend"]
    scope: Literal["key", "org"] = "key"
    target: Literal["prompt", "output", "both"] = "prompt"
    pattern: str | None = Field(default=None, max_length=2000)
    threshold_rpm: int | None = Field(default=None, ge=1)
    throttle_rpm: int | None = Field(default=None, ge=1)


def _invalidate(request: Request) -> None:
    state = getattr(request.app.state, "gateway", None)
    if state is not None:
        state.admission.access.invalidate()
        state.admission.rules.invalidate()


@router.get("/usage")
def get_usage(
    session: ReadSession,
    principal: CurrentPrincipal,
    view: Literal["consumer", "provider"] = "consumer",
    since: date | None = None,
    until: date | None = None,
    group_by: list[Literal["day", "model", "org", "key"]] = Query(default=["day", "model", "org", "key"]),
) -> list[dict[str, Any]]:
    """Usage by day × model × org × key: your own calls, or (view=provider) the traffic of your offers."""
    return usage_report(
        session, principal=principal, view=view, since=since, until=until, group_by=tuple(group_by)
    )


@router.put("/offers/{offer_id}/api-terms")
def put_api_terms(
    offer_id: str, terms: ApiTerms, session: WriteSession, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    """Set access, price plan, limits and logging policy of your ``api`` offer."""
    offer = market.set_api_terms(session, offer_id, terms, principal=principal)
    _invalidate(request)
    return {"offer": offer.id, "api": offer.terms["api"]}


@router.post("/offers/{offer_id}/entitlements", status_code=201)
def request_entitlement(
    offer_id: str, session: WriteSession, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    """Ask for access: approved at once if the offer is open, else waitlisted."""
    ent = market.request_access(session, offer_id, principal=principal)
    _invalidate(request)
    return {"id": ent.id, "offer": ent.offer_id, "status": ent.status}


@router.get("/entitlements")
def list_entitlements(session: ReadSession, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Your entitlements, and the requests on your offers."""
    return [
        {"id": e.id, "offer": e.offer_id, "org": e.org_id, "status": e.status, "requested_at": e.requested_at}
        for e in market.list_entitlements(session, principal=principal)
    ]


@router.post("/entitlements/{entitlement_id}/{decision}")
def decide_entitlement(
    entitlement_id: str,
    decision: Literal["approve", "reject"],
    session: WriteSession,
    principal: CurrentPrincipal,
    request: Request,
) -> dict[str, Any]:
    """Work through your waitlist."""
    ent = market.decide(session, entitlement_id, approve=decision == "approve", principal=principal)
    _invalidate(request)
    return {"id": ent.id, "status": ent.status}


@router.post("/suspensions", status_code=201)
def create_suspension(
    data: SuspensionCreate, session: WriteSession, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    """Suspend (or throttle) a key or org on your offers; the reason goes to the audit log and the caller."""
    row = oversight.suspend(session, principal=principal, **data.model_dump())
    _invalidate(request)
    return {"id": row.id, "subject_type": row.subject_type, "subject_id": row.subject_id, "kind": row.kind}


@router.post("/reinstatements")
def reinstate(
    data: Reinstatement, session: WriteSession, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    """Lift your suspensions of a key or org, with a reason."""
    rows = oversight.reinstate(session, principal=principal, **data.model_dump())
    _invalidate(request)
    return {"lifted": [r.id for r in rows]}


@router.post("/misuse-rules", status_code=201)
def create_rule(
    data: RuleCreate, session: WriteSession, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    """A misuse rule over your offers' traffic."""
    rule = oversight.create_rule(session, principal=principal, **data.model_dump())
    _invalidate(request)
    return {"id": rule.id, "name": rule.name}


@router.get("/misuse-events")
def list_misuse_events(session: ReadSession, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Events raised on your offers."""
    return [
        {
            "id": e.id,
            "created_at": e.created_at,
            "rule": e.rule_id,
            "org": e.org_id,
            "key": e.key_id,
            "action": e.action,
            "detail": e.detail,
        }
        for e in oversight.list_events(session, principal=principal)
    ]
