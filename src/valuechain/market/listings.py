"""Marketplace listings (issue 11): an offer wrapped with a kind, a price plan, terms and a licence.

Only the model's owner, or an organisation holding the owner's agreement for the ``marketplace`` channel,
may list it; the platform's fee and the upstream revenue shares are fixed on the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import Field, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.directory import org_id_for_slug, slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ForbiddenError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.core.schema import InputModel
from valuechain.market import ledger
from valuechain.market.models import Listing
from valuechain.registry.catalogue import version_refs
from valuechain.registry.claims import offer_agreement
from valuechain.registry.service import get_offer, model_ref, offer_records

# sale: perpetual licence to download; subscription: renews each period; hire: one time-boxed period.
# white_label, kit and maintenance are listed here and sold through their own flows (issue 11, parts 5-7).
Kind = Literal["sale", "subscription", "hire", "white_label", "kit", "maintenance"]
KINDS: tuple[str, ...] = ("sale", "subscription", "hire", "white_label", "kit", "maintenance")
TIMED_KINDS = ("subscription", "hire")
BPS = 10_000


class Share(InputModel):
    """A revenue share paid to an upstream organisation out of every sale, as its own ledger line."""

    org: str = Field(description="Slug of the upstream organisation (e.g. the model's owner).")
    bps: int = Field(ge=1, le=BPS, description="Share of the price in basis points (1/100 of a percent).")


class ListingCreate(InputModel):
    """A new listing of one of your offers."""

    offer: str = Field(description="The offer's id (an offer your organisation makes).")
    kind: Kind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    price: int = Field(
        ge=0, le=10**15, description="Price per purchase or per period, in micro-units (1 EUR = 1e6)."
    )
    period_seconds: int | None = Field(
        default=None, ge=1, le=100 * 366 * 86400, description="Length of a hire or subscription period."
    )
    stock: int | None = Field(
        default=None, ge=1, le=10**9, description="How many may be sold; none: unlimited."
    )
    licence: str = Field(min_length=1, max_length=200, description="Licence id or name (e.g. `proprietary`).")
    terms: str = Field(default="", max_length=20000, description="Terms the buyer accepts by buying.")
    shares: list[Share] = Field(default_factory=list, max_length=20)
    plan: dict[str, Any] = Field(default_factory=dict, description="Kind-specific terms of other channels.")

    @model_validator(mode="after")
    def _period_for_timed_kinds(self) -> ListingCreate:
        if self.kind in TIMED_KINDS and self.period_seconds is None:
            raise ValueError(f"a {self.kind} listing needs period_seconds")
        return self


@dataclass(frozen=True, slots=True)
class ListingRecord:
    """A listing as the catalogue shows it."""

    id: str
    offer: str
    model: str
    seller: str
    kind: str
    title: str
    description: str
    currency: str
    price: int
    price_text: str
    period_seconds: int | None
    stock: int | None
    sold: int
    licence: str
    terms: str
    shares: list[dict[str, Any]]
    fee_bps: int
    status: str
    created_at: datetime


def create_listing(
    session: Session, data: ListingCreate, *, principal: Principal, fee_bps: int
) -> ListingRecord:
    """List one of the caller's offers; refused unless it owns the model or holds the owner's agreement."""
    authorize(principal, Action.offer_write)
    offer = get_offer(session, data.offer, principal=principal)  # 404 when the caller may not see it
    if offer.by_org_id != principal.org_id:
        raise ForbiddenError(f"offer {offer.id} is another organisation's; list an offer you make")
    ref = version_refs(session, [offer.version_id]).get(offer.version_id, "")
    model = model_ref(session, ref.split("@", 1)[0])
    if model is None:
        raise NotFoundError(f"offer {offer.id} not found")
    agreement = offer_agreement(session, cast(Any, model), "marketplace", principal=principal)
    shares = []
    for share in data.shares:
        org_id = org_id_for_slug(session, share.org)
        if org_id is None:
            raise ValidationError(f"organisation `{share.org}` not found")
        shares.append({"org_id": org_id, "bps": share.bps})
    if sum(s["bps"] for s in shares) + fee_bps > BPS:
        raise ValidationError("the revenue shares and the platform fee exceed the price")
    listing = Listing(
        id=new_id("lst"),
        offer_id=offer.id,
        seller_org_id=principal.org_id,
        **data.model_dump(exclude={"offer", "shares"}),
        sold=0,
        shares=shares,
        status="active",
        agreement_id=agreement.id if agreement is not None else None,
        created_at=utcnow(),
    )
    session.add(listing)
    session.flush()
    ledger.ensure_account(
        session, ledger.revenue_code(principal.org_id), org_id=principal.org_id, currency=data.currency
    )
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="listing.create",
        subject_type="listing",
        subject_id=listing.id,
        after={"offer": offer.id, "kind": data.kind, "price": data.price, "currency": data.currency},
    )
    return records(session, [listing], fee_bps=fee_bps)[0]


def withdraw_listing(
    session: Session, listing_id: str, *, principal: Principal, fee_bps: int
) -> ListingRecord:
    """Stop selling a listing; licences already sold stay valid."""
    authorize(principal, Action.offer_write)
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFoundError(f"listing {listing_id} not found")
    authorize(principal, Action.offer_write, Resource("listing", listing_id, listing.seller_org_id, True))
    listing.status = "withdrawn"
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="listing.withdraw",
        subject_type="listing",
        subject_id=listing.id,
    )
    return records(session, [listing], fee_bps=fee_bps)[0]


def search_listings(
    session: Session,
    *,
    principal: Principal,
    fee_bps: int,
    kind: str | None = None,
    seller: str | None = None,
    query: str | None = None,
    max_price: int | None = None,
    include_withdrawn: bool = False,
    limit: int = 100,
) -> list[ListingRecord]:
    """The catalogue: listings of offers the caller may see, filtered by kind, seller, text and price."""
    authorize(principal, Action.offer_read)
    stmt = select(Listing).order_by(Listing.created_at.desc(), Listing.id).limit(max(1, min(limit, 500)))
    if kind:
        stmt = stmt.where(Listing.kind == kind)
    if seller:
        stmt = stmt.where(Listing.seller_org_id == (org_id_for_slug(session, seller) or ""))
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(Listing.title.ilike(like), Listing.description.ilike(like)))
    if max_price is not None:
        stmt = stmt.where(Listing.price <= max_price)
    if not include_withdrawn:
        stmt = stmt.where(Listing.status == "active")
    rows = list(session.scalars(stmt))
    visible = [r for r in rows if _may_see(session, r, principal)]
    return records(session, visible, fee_bps=fee_bps)


def _may_see(session: Session, listing: Listing, principal: Principal) -> bool:
    try:
        get_offer(session, listing.offer_id, principal=principal)
    except NotFoundError:
        return False
    return True


def get_listing(session: Session, listing_id: str, *, principal: Principal) -> Listing:
    """A listing the caller may see (another's hidden offer answers as absent)."""
    listing = session.get(Listing, listing_id)
    if listing is None or not _may_see(session, listing, principal):
        raise NotFoundError(f"listing {listing_id} not found")
    return listing


def records(session: Session, listings: list[Listing], *, fee_bps: int) -> list[ListingRecord]:
    """Typed catalogue records with the names people read (one query per table)."""
    offers = offer_records(session, [x.offer_id for x in listings])
    refs = version_refs(session, [o.version_id for o in offers.values()])
    slugs = slugs_for_ids(session, {x.seller_org_id for x in listings} | _share_orgs(listings))
    return [
        ListingRecord(
            id=x.id,
            offer=x.offer_id,
            model=refs.get(offers[x.offer_id].version_id, "") if x.offer_id in offers else "",
            seller=slugs.get(x.seller_org_id, ""),
            kind=x.kind,
            title=x.title,
            description=x.description,
            currency=x.currency,
            price=x.price,
            price_text=ledger.format_amount(x.price, x.currency),
            period_seconds=x.period_seconds,
            stock=x.stock,
            sold=x.sold,
            licence=x.licence,
            terms=x.terms,
            shares=[{"org": slugs.get(s["org_id"], ""), "bps": s["bps"]} for s in x.shares],
            fee_bps=fee_bps,
            status=x.status,
            created_at=x.created_at,
        )
        for x in listings
    ]


def _share_orgs(listings: list[Listing]) -> set[str]:
    return {s["org_id"] for x in listings for s in x.shares}
