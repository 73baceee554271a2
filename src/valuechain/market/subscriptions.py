"""Monthly subscriptions: the fee moves from the wallet to the provider, and the month's included tokens
reset an allowance account (in tokens, currency ``TOK``); both idempotent per entitlement and month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.core.clock import utcnow
from valuechain.market import ledger
from valuechain.market.models import Entitlement
from valuechain.market.terms import parse_terms
from valuechain.registry.service import OfferRecord, offer_records


def period_of(now: datetime) -> str:
    """The billing period (calendar month, UTC) of ``now``."""
    return f"{now.year}-{now.month:02d}"


def renew(session: Session, ent: Entitlement, offer: OfferRecord, *, now: datetime | None = None) -> bool:
    """Charge this month's fee and reset the included tokens, once per month; True when anything moved."""
    plan = parse_terms(offer.terms).plan
    period = period_of(now or utcnow())
    moved = False
    if plan.subscription_monthly:
        wallet = ledger.ensure_account(
            session, ledger.wallet_code(ent.org_id), org_id=ent.org_id, currency=plan.currency
        )
        revenue = ledger.ensure_account(
            session, ledger.revenue_code(offer.by_org_id), org_id=offer.by_org_id, currency=plan.currency
        )
        fee = plan.subscription_monthly
        tx = ledger.post(
            session,
            idempotency_key=f"subscription:{ent.id}:{period}",
            kind="subscription",
            org_id=ent.org_id,
            memo=f"subscription {period} of offer {offer.id}",
            postings=[(wallet, -fee), (revenue, fee)],
        )
        moved = tx is not None
    if plan.included_tokens_monthly:
        allowance = ledger.ensure_account(
            session, ledger.allowance_code(ent.org_id, offer.id), org_id=ent.org_id, currency="TOK"
        )
        source = ledger.ensure_account(
            session, ledger.allowance_source_code(offer.by_org_id), org_id=offer.by_org_id, currency="TOK"
        )
        session.refresh(allowance)
        delta = plan.included_tokens_monthly - allowance.balance  # unused tokens do not roll over
        if delta:
            tx = ledger.post(
                session,
                idempotency_key=f"allowance:{ent.id}:{period}",
                kind="allowance",
                org_id=ent.org_id,
                memo=f"included tokens {period}",
                postings=[(allowance, delta), (source, -delta)],
            )
            moved = moved or tx is not None
    return moved


def renew_all(session: Session, *, now: datetime | None = None) -> int:
    """Renew every approved entitlement to a subscription plan; returns how many moved money or tokens."""
    ents = list(session.scalars(select(Entitlement).where(Entitlement.status == "approved")))
    offers = offer_records(session, {e.offer_id for e in ents})
    rows = [
        (e, offers[e.offer_id]) for e in ents if e.offer_id in offers and offers[e.offer_id].channel == "api"
    ]
    count = 0
    for ent, offer in rows:
        plan = parse_terms(offer.terms).plan
        if (plan.subscription_monthly or plan.included_tokens_monthly) and renew(
            session, ent, offer, now=now
        ):
            count += 1
    return count
