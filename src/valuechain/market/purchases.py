"""Buying from the marketplace (issue 11): a sale's perpetual licence, a hire's or subscription's period.

Every purchase and renewal is a ``Charge`` (idempotency key unique) and one balanced ledger transaction:
the buyer's wallet pays the seller's revenue, the platform's fee and each upstream share as separate lines.
A limited listing is decremented by a conditional UPDATE, so concurrent buyers never oversell it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.market import ledger
from valuechain.market.listings import BPS, TIMED_KINDS, get_listing
from valuechain.market.models import Charge, Entitlement, Licence, Listing
from valuechain.registry.claims import is_revoked
from valuechain.registry.service import offer_record

BUYABLE = ("sale", "subscription", "hire")


@dataclass(frozen=True, slots=True)
class LicenceRecord:
    """A licence as its holder and its seller see it."""

    id: str
    listing: str
    offer: str
    kind: str
    buyer: str
    seller: str
    status: str
    starts_at: datetime
    expires_at: datetime | None
    auto_renew: bool
    is_active: bool
    charge: str | None = None
    amount: int | None = None


def buy(
    session: Session,
    listing_id: str,
    *,
    principal: Principal,
    fee_bps: int,
    idempotency_key: str | None,
    expected_price: int | None = None,
    auto_renew: bool = False,
    now: datetime | None = None,
) -> LicenceRecord:
    """Pay for a listing and grant its licence; the same idempotency key answers the same licence."""
    authorize(principal, Action.entitlement_request)
    idempotency_key = _required_key(idempotency_key)
    key = f"buy:{principal.org_id}:{idempotency_key}"
    done = _charged(session, key)
    if done is not None:
        return _same_purchase(done, listing_id)
    listing = get_listing(session, listing_id, principal=principal)
    if listing.kind not in BUYABLE:
        raise ConflictError(f"a {listing.kind} listing is not bought here; see its channel")
    if listing.status != "active":
        raise ConflictError(f"listing {listing.id} is withdrawn")
    _check_agreement(session, listing)
    if listing.seller_org_id == principal.org_id:
        raise ConflictError("an organisation cannot buy its own listing")
    if expected_price is not None and expected_price != listing.price:
        now_text = ledger.format_amount(listing.price, listing.currency)
        raise ConflictError(
            f"the price of listing {listing.id} is now {now_text}, "
            f"not {ledger.format_amount(expected_price, listing.currency)}; nothing was charged"
        )
    now = now or utcnow()
    licence = Licence(
        id=new_id("lic"),
        listing_id=listing.id,
        offer_id=listing.offer_id,
        buyer_org_id=principal.org_id,
        seller_org_id=listing.seller_org_id,
        kind=listing.kind,
        status="active",
        auto_renew=auto_renew and listing.kind == "subscription",
        starts_at=now,
        expires_at=now + timedelta(seconds=listing.period_seconds) if listing.kind in TIMED_KINDS else None,
    )
    try:
        with session.begin_nested():  # a concurrent twin with the same key loses here, charging nothing
            charge = _charge(session, listing, licence, key=key, fee_bps=fee_bps, now=now, what="purchase")
    except IntegrityError:
        done = _charged(session, key)
        if done is None:
            raise ConflictError("this purchase is already in progress; retry with the same key") from None
        return _same_purchase(done, listing.id)
    _take_stock(session, listing)
    session.add(licence)
    session.flush()
    _pay(session, listing, charge, fee_bps=fee_bps, now=now)
    if licence.expires_at is not None:
        _entitle(session, licence, now=now)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="licence.buy",
        subject_type="licence",
        subject_id=licence.id,
        after={"listing": listing.id, "kind": listing.kind, "charge": charge.id, "amount": charge.amount},
    )
    return _record(session, licence, charge)


def _same_purchase(done: LicenceRecord, listing_id: str) -> LicenceRecord:
    """A retry answers the first purchase; a key already spent on another listing is refused (as Stripe
    refuses a reused idempotency key with other parameters), so a typo never hands back the wrong licence."""
    if done.listing != listing_id:
        raise ConflictError(
            f"idempotency key already used to buy listing {done.listing}; "
            f"use a new key to buy {listing_id} (nothing was charged)"
        )
    return done


def _check_agreement(session: Session, listing: Listing) -> None:
    """A listing of another owner's model sells only while the owner's agreement stands."""
    if listing.agreement_id is not None and is_revoked(session, listing.agreement_id):
        raise ForbiddenError(
            f"the model's owner revoked agreement {listing.agreement_id}, under which listing "
            f"{listing.id} was made; it can no longer be bought or renewed (nothing was charged)"
        )


def _required_key(key: str | None) -> str:
    if not key or not key.strip():
        raise ValidationError("an Idempotency-Key is required: a retry with the same key pays once")
    return key.strip()


def _charged(session: Session, key: str) -> LicenceRecord | None:
    charge = session.scalar(select(Charge).where(Charge.idempotency_key == key))
    if charge is None:
        return None
    licence = session.get(Licence, charge.licence_id)
    return _record(session, licence, charge) if licence is not None else None


def _charge(
    session: Session, listing: Listing, licence: Licence, *, key: str, fee_bps: int, now: datetime, what: str
) -> Charge:
    charge = Charge(
        id=new_id("chg"),
        idempotency_key=key,
        licence_id=licence.id,
        buyer_org_id=licence.buyer_org_id,
        seller_org_id=listing.seller_org_id,
        description=f"{what}: {listing.title} ({listing.kind}, listing {listing.id})"[:500],
        currency=listing.currency,
        amount=listing.price,
        fee=listing.price * fee_bps // BPS,
        created_at=now,
    )
    session.add(charge)
    session.flush()
    return charge


def _take_stock(session: Session, listing: Listing) -> None:
    if listing.stock is None:
        session.execute(update(Listing).where(Listing.id == listing.id).values(sold=Listing.sold + 1))
        return
    taken = session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.sold < Listing.stock)
        .values(sold=Listing.sold + 1)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"listing {listing.id} is sold out ({listing.stock} sold); nothing was charged")


def _pay(session: Session, listing: Listing, charge: Charge, *, fee_bps: int, now: datetime) -> None:
    """One transaction: wallet → seller's revenue, platform fee, and each upstream share on its own line."""
    if charge.amount == 0:
        return
    cur = listing.currency
    payees = []
    shares = 0
    for share in listing.shares:
        part = charge.amount * share["bps"] // BPS
        shares += part
        account = ledger.ensure_account(
            session, ledger.revenue_code(share["org_id"]), org_id=share["org_id"], currency=cur
        )
        payees.append((account, part))
    fee_account = ledger.ensure_account(session, ledger.FEES_CODE, org_id=None, currency=cur)
    seller = ledger.ensure_account(
        session, ledger.revenue_code(listing.seller_org_id), org_id=listing.seller_org_id, currency=cur
    )
    payees = [(seller, charge.amount - charge.fee - shares), (fee_account, charge.fee), *payees]
    tx = ledger.spend(
        session,
        idempotency_key=charge.idempotency_key,
        kind="purchase",
        payer_org_id=charge.buyer_org_id,
        payees=[(a, amount) for a, amount in payees if amount],
        memo=charge.description,
        currency=cur,
        now=now,
    )
    charge.transaction_id = tx.id if tx is not None else None


def _entitle(session: Session, licence: Licence, *, now: datetime) -> None:
    """A hire or subscription of an ``api`` offer entitles the buyer until the licence expires."""
    offer = offer_record(session, licence.offer_id)
    if offer is None or offer.channel != "api":
        return
    ent = session.scalar(
        select(Entitlement).where(
            Entitlement.offer_id == offer.id, Entitlement.org_id == licence.buyer_org_id
        )
    )
    if ent is None:
        ent = Entitlement(id=new_id("ent"), offer_id=offer.id, org_id=licence.buyer_org_id, requested_at=now)
        session.add(ent)
    ent.status, ent.decided_at, ent.decided_by = "approved", now, f"licence:{licence.id}"
    ent.licence_id, ent.expires_at = licence.id, licence.expires_at
    ledger.ensure_account(
        session, ledger.wallet_code(licence.buyer_org_id), org_id=licence.buyer_org_id, currency="EUR"
    )
    ledger.ensure_account(
        session, ledger.revenue_code(offer.by_org_id), org_id=offer.by_org_id, currency="EUR"
    )
    session.flush()


def renew(
    session: Session,
    licence_id: str,
    *,
    principal: Principal,
    fee_bps: int,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> LicenceRecord:
    """Pay one more period of a hire or subscription; it extends from its expiry (or now, if lapsed)."""
    licence = _own_licence(session, licence_id, principal)
    key = f"renew:{licence.id}:{_required_key(idempotency_key)}"
    done = _charged(session, key)
    if done is not None:
        return done
    if licence.kind not in TIMED_KINDS:
        raise ConflictError(f"a {licence.kind} licence does not expire; nothing to renew")
    listing = session.get(Listing, licence.listing_id)
    if listing is None or listing.status != "active":
        raise ConflictError(f"listing {licence.listing_id} is withdrawn; the licence cannot be renewed")
    _check_agreement(session, listing)
    now = now or utcnow()
    try:
        with session.begin_nested():
            charge = _charge(session, listing, licence, key=key, fee_bps=fee_bps, now=now, what="renewal")
    except IntegrityError:
        done = _charged(session, key)
        if done is None:
            raise ConflictError("this renewal is already in progress; retry with the same key") from None
        return done
    _pay(session, listing, charge, fee_bps=fee_bps, now=now)
    start = max(licence.expires_at or now, now)
    licence.expires_at = start + timedelta(seconds=listing.period_seconds or 0)
    licence.status = "active"
    _entitle(session, licence, now=now)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="licence.renew",
        subject_type="licence",
        subject_id=licence.id,
        after={"charge": charge.id, "expires_at": licence.expires_at.isoformat()},
    )
    return _record(session, licence, charge)


def cancel(
    session: Session, licence_id: str, *, principal: Principal, now: datetime | None = None
) -> LicenceRecord:
    """Stop renewing a subscription or hire; access runs to the end of the paid period (no refund)."""
    licence = _own_licence(session, licence_id, principal)
    if licence.kind not in TIMED_KINDS:
        raise ConflictError(f"a {licence.kind} licence is perpetual; it cannot be cancelled")
    licence.auto_renew = False
    licence.status = "cancelled"
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="licence.cancel",
        subject_type="licence",
        subject_id=licence.id,
    )
    return _record(session, licence, None, now=now)


def renew_due(session: Session, *, fee_bps: int, now: datetime | None = None) -> int:
    """Renew every auto-renewing subscription that has expired (run by the operator's scheduler)."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Licence).where(
                Licence.auto_renew.is_(True), Licence.status == "active", Licence.expires_at <= now
            )
        )
    )
    count = 0
    for licence in due:
        owner = _buyer_principal(licence)
        try:
            with session.begin_nested():
                renew(
                    session,
                    licence.id,
                    principal=owner,
                    fee_bps=fee_bps,
                    idempotency_key=_period_key(licence),
                )
                count += 1
        except (ledger.InsufficientCreditError, ConflictError, ForbiddenError):
            continue  # lapses: access stops at expiry until the buyer renews
    return count


def _period_key(licence: Licence) -> str:
    return f"auto:{licence.expires_at.isoformat() if licence.expires_at else ''}"


def _buyer_principal(licence: Licence) -> Principal:
    from valuechain.accounts.principal import system_principal

    return system_principal(org_id=licence.buyer_org_id)


def _own_licence(session: Session, licence_id: str, principal: Principal) -> Licence:
    authorize(principal, Action.entitlement_request)
    licence = session.get(Licence, licence_id)
    if licence is None:
        raise NotFoundError(f"licence {licence_id} not found")
    authorize(principal, Action.entitlement_request, Resource("licence", licence_id, licence.buyer_org_id))
    return licence


def visible_licence(session: Session, licence_id: str, *, principal: Principal) -> Licence:
    """A licence its buyer, its seller or the operator may read (others: absent)."""
    authorize(principal, Action.entitlement_read)
    licence = session.get(Licence, licence_id)
    if licence is None or not (
        principal.is_operator or principal.org_id in (licence.buyer_org_id, licence.seller_org_id)
    ):
        raise NotFoundError(f"licence {licence_id} not found")
    return licence


def list_licences(
    session: Session, *, principal: Principal, side: str = "buyer", now: datetime | None = None
) -> list[LicenceRecord]:
    """Licences the caller's organisation bought (``buyer``) or sold (``seller``)."""
    authorize(principal, Action.entitlement_read)
    if side not in ("buyer", "seller"):
        raise ValidationError("side is buyer or seller")
    column = Licence.buyer_org_id if side == "buyer" else Licence.seller_org_id
    stmt = select(Licence).order_by(Licence.starts_at.desc())
    if not principal.is_operator:
        stmt = stmt.where(column == principal.org_id)
    return [_record(session, x, None, now=now) for x in session.scalars(stmt.limit(500))]


def is_active(licence: Licence, now: datetime | None = None) -> bool:
    """Whether the licence still grants access (sales never expire; hires and subscriptions do)."""
    return licence.expires_at is None or (now or utcnow()) < licence.expires_at


def _record(
    session: Session, licence: Licence, charge: Charge | None, *, now: datetime | None = None
) -> LicenceRecord:
    slugs = slugs_for_ids(session, {licence.buyer_org_id, licence.seller_org_id})
    return LicenceRecord(
        id=licence.id,
        listing=licence.listing_id,
        offer=licence.offer_id,
        kind=licence.kind,
        buyer=slugs.get(licence.buyer_org_id, ""),
        seller=slugs.get(licence.seller_org_id, ""),
        status=licence.status,
        starts_at=licence.starts_at,
        expires_at=licence.expires_at,
        auto_renew=licence.auto_renew,
        is_active=is_active(licence, now),
        charge=charge.id if charge else None,
        amount=charge.amount if charge else None,
    )


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    """One payment of the caller's organisation (what an invoice is issued for)."""

    id: str
    licence: str
    seller: str
    description: str
    currency: str
    amount: int
    created_at: datetime


def list_charges(session: Session, *, principal: Principal, limit: int = 200) -> list[ChargeRecord]:
    """The caller's organisation's purchases and renewals, newest first."""
    authorize(principal, Action.usage_read)
    stmt = select(Charge).where(Charge.buyer_org_id == principal.org_id).order_by(Charge.created_at.desc())
    rows = list(session.scalars(stmt.limit(max(1, min(limit, 500)))))
    slugs = slugs_for_ids(session, {c.seller_org_id for c in rows})
    return [
        ChargeRecord(
            c.id,
            c.licence_id,
            slugs.get(c.seller_org_id, ""),
            c.description,
            c.currency,
            c.amount,
            c.created_at,
        )
        for c in rows
    ]
