"""HTTP routes of the market under /api/v1: API terms of offers and entitlements (thin, over the service)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession, WriteSession
from valuechain.market import service
from valuechain.market.schemas import ApiTermsSet, EntitlementPublic
from valuechain.market.terms import ApiTerms

router = APIRouter(prefix="/api/v1", tags=["api-channel"])


@router.put("/offers/{offer_id}/api-terms")
def put_api_terms(
    offer_id: str, terms: ApiTerms, session: WriteSession, principal: CurrentPrincipal
) -> ApiTermsSet:
    """Set access, price plan, limits and logging policy of your ``api`` offer."""
    offer = service.set_api_terms(session, offer_id, terms, principal=principal)
    return ApiTermsSet(offer=offer.id, api=offer.terms["api"])


@router.post("/offers/{offer_id}/entitlements", status_code=201)
def request_entitlement(
    offer_id: str, session: WriteSession, principal: CurrentPrincipal
) -> EntitlementPublic:
    """Ask for access: approved at once if the offer is open, else waitlisted."""
    ent = service.request_access(session, offer_id, principal=principal)
    return EntitlementPublic.model_validate(ent)


@router.get("/entitlements")
def list_entitlements(session: ReadSession, principal: CurrentPrincipal) -> list[EntitlementPublic]:
    """Your entitlements, and the requests on your offers."""
    return [
        EntitlementPublic.model_validate(e) for e in service.list_entitlements(session, principal=principal)
    ]


@router.post("/entitlements/{entitlement_id}/{decision}")
def decide_entitlement(
    entitlement_id: str,
    decision: Literal["approve", "reject"],
    session: WriteSession,
    principal: CurrentPrincipal,
) -> EntitlementPublic:
    """Work through your waitlist."""
    ent = service.decide(session, entitlement_id, approve=decision == "approve", principal=principal)
    return EntitlementPublic.model_validate(ent)
