"""HTTP routes of consent along the chain: /api/v1/claims (answered by the named organisation) and
/api/v1/agreements (a model owner lets another organisation offer its models)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession, WriteSession
from valuechain.registry import claims
from valuechain.registry.schemas import (
    AgreementCreate,
    AgreementPublic,
    ClaimAnswer,
    ClaimPublic,
    ClaimStatus,
)
from valuechain.registry.views import Names

router = APIRouter(prefix="/api/v1", tags=["claims"])


@router.get("/claims")
def list_claims(
    session: ReadSession,
    principal: CurrentPrincipal,
    direction: str | None = Query(None, pattern="^(incoming|outgoing)$", description="incoming or outgoing."),
    status: ClaimStatus | None = None,
) -> list[ClaimPublic]:
    """Claims naming your organisation (incoming) and those it made (outgoing)."""
    names = Names(session)
    found = claims.list_claims(session, principal=principal, direction=direction, status=status)
    names.prefetch_orgs([c.claimant_org_id for c in found] + [c.named_org_id for c in found])
    return [claims.claim_public(c, names) for c in found]


@router.get("/claims/{claim_id}")
def read_claim(claim_id: str, session: ReadSession, principal: CurrentPrincipal) -> ClaimPublic:
    return claims.claim_public(claims.get_claim(session, claim_id, principal=principal), Names(session))


@router.post("/claims/{claim_id}/confirm")
def confirm_claim(
    claim_id: str, session: WriteSession, principal: CurrentPrincipal, data: ClaimAnswer | None = None
) -> ClaimPublic:
    """Confirm a claim naming your organisation (admins): from now on it counts, obligations included."""
    reason = data.reason if data else None
    claim = claims.answer_claim(session, claim_id, ClaimStatus.confirmed, principal=principal, reason=reason)
    return claims.claim_public(claim, Names(session))


@router.post("/claims/{claim_id}/reject")
def reject_claim(
    claim_id: str, session: WriteSession, principal: CurrentPrincipal, data: ClaimAnswer | None = None
) -> ClaimPublic:
    """Reject a claim naming your organisation (admins): it attaches nothing to you."""
    reason = data.reason if data else None
    claim = claims.answer_claim(session, claim_id, ClaimStatus.rejected, principal=principal, reason=reason)
    return claims.claim_public(claim, Names(session))


@router.get("/agreements")
def list_agreements(session: ReadSession, principal: CurrentPrincipal) -> list[AgreementPublic]:
    """Agreements your organisation gave as a model owner or holds as an agent."""
    names = Names(session)
    found = claims.list_agreements(session, principal=principal)
    names.prefetch_orgs([a.owner_org_id for a in found] + [a.agent_org_id for a in found])
    return [claims.agreement_public(a, names) for a in found]


@router.post("/agreements", status_code=201)
def create_agreement(
    data: AgreementCreate, session: WriteSession, principal: CurrentPrincipal
) -> AgreementPublic:
    """Let another organisation offer one of your models (or all of them) through the given channels."""
    agreement = claims.create_agreement(session, data, principal=principal)
    return claims.agreement_public(agreement, Names(session))


@router.delete("/agreements/{agreement_id}")
def revoke_agreement(
    agreement_id: str, session: WriteSession, principal: CurrentPrincipal
) -> AgreementPublic:
    """End an agreement (its owner): no new offers under it; white-label offers made under it stop on /v1."""
    agreement = claims.revoke_agreement(session, agreement_id, principal=principal)
    return claims.agreement_public(agreement, Names(session))
