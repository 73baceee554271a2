"""Use cases of the market: API offer terms, entitlements (open or by approval), credits.

Every entry point asks :func:`valuechain.accounts.authz.authorize` first; "is this organisation entitled?"
is answered here only (:func:`entitlement_statuses`, :func:`denial`, :func:`is_entitled`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.directory import org_id_for_slug
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.market import ledger
from valuechain.market.models import Entitlement
from valuechain.market.subscriptions import renew
from valuechain.market.terms import ApiTerms, parse_terms
from valuechain.registry.service import (
    ROUTED_CHANNELS,
    OfferRecord,
    get_offer,
    offer_ids_by,
    offer_record,
    set_offer_terms,
)

APPROVED = "approved"
_RESELLER_ADDS = (
    "offer {offer} is a white-label offer: its reseller adds the customers that asked for it "
    "with `valuechain whitelabel customer {offer} ORG` or POST /api/v1/white-label/{offer}/customers"
)
EXPIRED = "expired:"  # status prefix of an entitlement whose hire ran out, followed by the licence id


def entitlement_statuses(session: Session, org_id: str) -> dict[str, str]:
    """The status of each of an organisation's entitlements, by offer id."""
    rows = session.execute(
        select(
            Entitlement.offer_id, Entitlement.status, Entitlement.licence_id, Entitlement.expires_at
        ).where(Entitlement.org_id == org_id)
    )
    now = utcnow()
    return {
        offer_id: f"{EXPIRED}{licence_id}" if expires_at is not None and expires_at <= now else status
        for offer_id, status, licence_id, expires_at in rows
    }


def denial(status: str | None, offer_id: str) -> str | None:
    """Why an organisation with an entitlement in ``status`` may not use ``offer_id``; None if entitled."""
    if status is None:
        return f"your organisation is not entitled to offer {offer_id}; request access first"
    if status.startswith(EXPIRED):  # a hire or subscription bought in the marketplace ran out
        licence = status[len(EXPIRED) :]
        return (
            f"your hire {licence} of offer {offer_id} has expired; renew it with "
            f"`valuechain market renew {licence}` or POST /api/v1/licences/{licence}/renew"
        )
    if status == "pending":
        return f"your request for offer {offer_id} is on the waitlist, awaiting the provider's approval"
    if status != APPROVED:
        return f"your entitlement to offer {offer_id} is {status}"
    return None


def is_entitled(session: Session, org_id: str, offer_ids: Select[tuple[str]] | list[str]) -> bool:
    """Whether the organisation holds an approved entitlement to any of ``offer_ids``."""
    query = select(Entitlement.id).where(
        Entitlement.org_id == org_id,
        Entitlement.status == APPROVED,
        Entitlement.offer_id.in_(offer_ids),
        or_(Entitlement.expires_at.is_(None), Entitlement.expires_at > utcnow()),
    )
    return session.scalar(query.limit(1)) is not None


def entitled_org_ids(session: Session, offer_ids: list[str]) -> dict[str, set[str]]:
    """The organisations holding an approved entitlement to each of ``offer_ids`` (issue 11: whom a
    deprecation reaches, how many customers a reseller has)."""
    found: dict[str, set[str]] = {}
    if not offer_ids:
        return found
    rows = session.execute(
        select(Entitlement.offer_id, Entitlement.org_id).where(
            Entitlement.offer_id.in_(offer_ids), Entitlement.status == APPROVED
        )
    )
    for offer_id, org_id in rows:
        found.setdefault(offer_id, set()).add(org_id)
    return found


def _api_offer(session: Session, offer_id: str, principal: Principal, action: Action) -> OfferRecord:
    """The ``api`` offer, once ``principal`` may do ``action`` to it (another org's answers as absent)."""
    offer = offer_record(session, offer_id)
    if offer is None or offer.channel not in ROUTED_CHANNELS:  # white-label offers are served too
        raise NotFoundError(f"api offer {offer_id} not found")
    authorize(principal, action, Resource("api offer", offer_id, offer.by_org_id))
    return offer


def set_api_terms(session: Session, offer_id: str, terms: ApiTerms, *, principal: Principal) -> OfferRecord:
    """Set the access, price plan, limits and logging policy of an ``api`` offer (the registry writes it)."""
    offer = set_offer_terms(session, offer_id, "api", terms.model_dump(mode="json"), principal=principal)
    ledger.ensure_account(
        session, ledger.revenue_code(offer.by_org_id), org_id=offer.by_org_id, currency=terms.plan.currency
    )
    return offer


def request_access(
    session: Session, offer_id: str, *, principal: Principal, now: datetime | None = None
) -> Entitlement:
    """Ask for an offer: approved at once when access is open, else put on the provider's waitlist."""
    authorize(principal, Action.entitlement_request)
    get_offer(session, offer_id, principal=principal)  # 404 unless the caller may see the offer
    offer = offer_record(session, offer_id)
    if offer is None or offer.channel not in ROUTED_CHANNELS:  # white-label offers are served too
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
    # a white-label request waits for its reseller, who adds the customer within its agreement's cap
    if offer.channel != "white_label" and parse_terms(offer.terms).access == "open":
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
    ent, offer = _managed_entitlement(session, entitlement_id, principal)
    if ent.status != "pending":
        raise ConflictError(f"entitlement {entitlement_id} is already {ent.status}")
    if approve and offer.channel == "white_label":
        raise ForbiddenError(_RESELLER_ADDS.format(offer=offer.id))
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
    offer = _api_offer(session, offer_id, principal, Action.entitlement_manage)
    if offer.channel == "white_label":  # a customer must have asked: see channels.whitelabel.add_customer
        raise ForbiddenError(_RESELLER_ADDS.format(offer=offer.id))
    org_id = org_id_for_slug(session, org_slug)
    if org_id is None:
        raise NotFoundError(f"organisation {org_slug} not found")
    ent = session.execute(
        select(Entitlement).where(Entitlement.offer_id == offer_id, Entitlement.org_id == org_id)
    ).scalar_one_or_none()
    if ent is None:
        ent = Entitlement(
            id=new_id("ent"), offer_id=offer_id, org_id=org_id, status="pending", requested_at=utcnow()
        )
        session.add(ent)
        session.flush()
    if ent.status != "approved":
        _approve(session, ent, offer, actor=principal.actor)
    return ent


def approve_request(session: Session, offer_id: str, org_id: str, *, principal: Principal) -> Entitlement:
    """Approve the organisation's own request for an offer (a white-label reseller adding a customer that
    asked, issue 11: the caller has checked the request is pending or approved)."""
    offer = _api_offer(session, offer_id, principal, Action.entitlement_manage)
    ent = session.execute(
        select(Entitlement).where(Entitlement.offer_id == offer_id, Entitlement.org_id == org_id)
    ).scalar_one_or_none()
    if ent is None or ent.status not in ("pending", APPROVED):
        raise ConflictError(f"organisation {org_id} has not requested offer {offer_id}")
    if ent.status != APPROVED:
        _approve(session, ent, offer, actor=principal.actor)
    return ent


def revoke(session: Session, entitlement_id: str, *, principal: Principal, reason: str) -> Entitlement:
    """End an organisation's access to an offer."""
    ent, _ = _managed_entitlement(session, entitlement_id, principal)
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


def _managed_entitlement(
    session: Session, entitlement_id: str, principal: Principal
) -> tuple[Entitlement, OfferRecord]:
    """An entitlement to one of the caller's offers; another provider's answers as absent."""
    ent = session.get(Entitlement, entitlement_id)
    offer = offer_record(session, ent.offer_id) if ent is not None else None
    if ent is None or offer is None:
        raise NotFoundError(f"entitlement {entitlement_id} not found")
    authorize(principal, Action.entitlement_manage, Resource("entitlement", entitlement_id, offer.by_org_id))
    return ent, offer


def _approve(
    session: Session,
    ent: Entitlement,
    offer: OfferRecord,
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
    authorize(principal, Action.entitlement_read)
    query = select(Entitlement)
    if not principal.is_operator:
        query = query.where(
            or_(
                Entitlement.org_id == principal.org_id,
                Entitlement.offer_id.in_(offer_ids_by(principal.org_id)),
            )
        )
    if offer_id:
        query = query.where(Entitlement.offer_id == offer_id)
    return list(session.execute(query.order_by(Entitlement.requested_at)).scalars())


def entitle_customer(session: Session, offer_id: str, org_id: str, *, actor: str, note: str) -> None:
    """Approve ``org_id`` on an offer made for it alone (a fine-tune served to its customer, issue 12); the
    fine-tuning service has authorised the act already."""
    offer = offer_record(session, offer_id)
    if offer is None:
        raise NotFoundError(f"offer {offer_id} not found")
    ent = Entitlement(
        id=new_id("ent"), offer_id=offer_id, org_id=org_id, status="pending", requested_at=utcnow()
    )
    session.add(ent)
    session.flush()
    _approve(session, ent, offer, actor=actor, note=note)
