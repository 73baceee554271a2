"""Use cases of the market: API offer terms, entitlements (open or by approval), credits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.models import Organization
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Role
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.market import ledger
from valuechain.market.models import Entitlement
from valuechain.market.subscriptions import renew
from valuechain.market.terms import ApiTerms, parse_terms
from valuechain.registry.models import Offer
from valuechain.registry.service import get_offer


def _own_api_offer(session: Session, offer_id: str, principal: Principal) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None or offer.channel != "api":
        raise NotFoundError(f"api offer {offer_id} not found")
    if offer.by_org_id != principal.org_id and not principal.is_operator:
        # Another organisation's offer answers as absent, like every record the caller does not own.
        raise NotFoundError(f"api offer {offer_id} not found among your organisation's offers")
    return offer


def set_api_terms(session: Session, offer_id: str, terms: ApiTerms, *, principal: Principal) -> Offer:
    """Set the access, price plan, limits and logging policy of an ``api`` offer."""
    principal.require_role(Role.admin)
    offer = _own_api_offer(session, offer_id, principal)
    before = dict(offer.terms or {})
    offer.terms = {**before, "api": terms.model_dump(mode="json")}
    ledger.ensure_account(
        session, ledger.revenue_code(offer.by_org_id), org_id=offer.by_org_id, currency=terms.plan.currency
    )
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="offer.terms",
        subject_type="offer",
        subject_id=offer.id,
        before=before,
        after=offer.terms,
    )
    return offer


def request_access(
    session: Session, offer_id: str, *, principal: Principal, now: datetime | None = None
) -> Entitlement:
    """Ask for an offer: approved at once when access is open, else put on the provider's waitlist."""
    principal.require_role(Role.member)
    offer = get_offer(session, offer_id, principal=principal)  # 404 unless the caller may see the offer
    if offer.channel != "api":
        raise NotFoundError(f"api offer {offer_id} not found")
    existing = session.execute(
        select(Entitlement).where(Entitlement.offer_id == offer_id, Entitlement.org_id == principal.org_id)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    now = now or utcnow()
    ent = Entitlement(
        id=new_id("ent"), offer_id=offer_id, org_id=principal.org_id, status="pending", requested_at=now
    )
    session.add(ent)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="entitlement.request",
        subject_type="entitlement",
        subject_id=ent.id,
        after={"offer": offer_id},
    )
    if parse_terms(offer.terms).access == "open":
        _approve(session, ent, offer, actor="system:open-access", now=now)
    return ent


def decide(
    session: Session,
    entitlement_id: str,
    *,
    approve: bool,
    principal: Principal,
    note: str | None = None,
) -> Entitlement:
    """The provider approves or rejects a waiting request (working through the waitlist)."""
    principal.require_role(Role.admin)
    ent = session.get(Entitlement, entitlement_id)
    if ent is None:
        raise NotFoundError(f"entitlement {entitlement_id} not found")
    offer = _own_api_offer(session, ent.offer_id, principal)
    if ent.status != "pending":
        raise ConflictError(f"entitlement {entitlement_id} is already {ent.status}")
    if approve:
        _approve(session, ent, offer, actor=principal.actor, note=note)
    else:
        ent.status, ent.decided_at, ent.decided_by, ent.note = "rejected", utcnow(), principal.actor, note
        record_event(
            session,
            actor=principal.actor,
            org_id=principal.org_id,
            action="entitlement.reject",
            subject_type="entitlement",
            subject_id=ent.id,
            reason=note,
        )
    return ent


def grant(session: Session, offer_id: str, org_slug: str, *, principal: Principal) -> Entitlement:
    """The provider entitles an organisation directly (approved, credits granted)."""
    principal.require_role(Role.admin)
    offer = _own_api_offer(session, offer_id, principal)
    org = session.execute(select(Organization).where(Organization.slug == org_slug)).scalar_one_or_none()
    if org is None:
        raise NotFoundError(f"organisation {org_slug} not found")
    ent = session.execute(
        select(Entitlement).where(Entitlement.offer_id == offer_id, Entitlement.org_id == org.id)
    ).scalar_one_or_none()
    if ent is None:
        ent = Entitlement(
            id=new_id("ent"), offer_id=offer_id, org_id=org.id, status="pending", requested_at=utcnow()
        )
        session.add(ent)
        session.flush()
    if ent.status != "approved":
        _approve(session, ent, offer, actor=principal.actor)
    return ent


def revoke(session: Session, entitlement_id: str, *, principal: Principal, reason: str) -> Entitlement:
    """End an organisation's access to an offer."""
    principal.require_role(Role.admin)
    ent = session.get(Entitlement, entitlement_id)
    if ent is None:
        raise NotFoundError(f"entitlement {entitlement_id} not found")
    _own_api_offer(session, ent.offer_id, principal)
    if not reason.strip():
        raise ValidationError("revocation needs a reason")
    ent.status, ent.decided_at, ent.decided_by, ent.note = "revoked", utcnow(), principal.actor, reason
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="entitlement.revoke",
        subject_type="entitlement",
        subject_id=ent.id,
        reason=reason,
    )
    return ent


def _approve(
    session: Session,
    ent: Entitlement,
    offer: Offer,
    *,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    terms = parse_terms(offer.terms)
    ent.status, ent.decided_at, ent.decided_by, ent.note = "approved", now or utcnow(), actor, note
    currency = terms.plan.currency
    ledger.ensure_account(session, ledger.wallet_code(ent.org_id), org_id=ent.org_id, currency=currency)
    ledger.ensure_account(
        session, ledger.revenue_code(offer.by_org_id), org_id=offer.by_org_id, currency=currency
    )
    if terms.plan.free_credits:
        ledger.grant_credits(
            session,
            org_id=ent.org_id,
            provider_org_id=offer.by_org_id,
            amount=terms.plan.free_credits,
            idempotency_key=f"free-credits:{ent.id}",
            memo=f"free credits of offer {offer.id}",
            currency=currency,
        )
    renew(session, ent, offer, now=now)
    record_event(
        session,
        actor=actor,
        org_id=offer.by_org_id,
        action="entitlement.approve",
        subject_type="entitlement",
        subject_id=ent.id,
        after={"offer": offer.id, "org": ent.org_id},
        reason=note,
    )


def list_entitlements(
    session: Session, *, principal: Principal, offer_id: str | None = None
) -> list[Entitlement]:
    """An org's own entitlements, or (for a provider) the requests on its offers."""
    query = select(Entitlement).join(Offer, Offer.id == Entitlement.offer_id)
    if not principal.is_operator:
        query = query.where((Entitlement.org_id == principal.org_id) | (Offer.by_org_id == principal.org_id))
    if offer_id:
        query = query.where(Entitlement.offer_id == offer_id)
    return list(session.execute(query.order_by(Entitlement.requested_at)).scalars())
