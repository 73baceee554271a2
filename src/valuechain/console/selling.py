"""The seller's side of the marketplace in the console (``/market/sell``, issue 11): list one of the
organisation's offers with a kind, a price plan, terms and a licence; its listings (withdraw) and the
licences it sold. Every rule (who may list, fees, shares) is ``market.listings``'s."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from valuechain.console.web import (
    ConsoleRoute,
    SignedIn,
    Table,
    check_csrf,
    get_db,
    micro_units,
    render,
    twin,
)
from valuechain.core.errors import ValidationError
from valuechain.market import listings, purchases
from valuechain.market.listings import KINDS, TIMED_KINDS
from valuechain.registry.catalogue import version_refs
from valuechain.registry.service import OfferRecord, list_offers

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# A period typed as a number and a unit (a hire can be seconds long, a subscription years).
PERIOD_UNITS = {
    "seconds": 1,
    "minutes": 60,
    "hours": 3600,
    "days": 86400,
    "months": 30 * 86400,
    "years": 365 * 86400,
}


@router.get("/market/sell")
def show_selling(request: Request, visitor: SignedIn) -> Response:
    """Your offers to list, your listings (active and withdrawn) and the licences you sold."""
    principal = visitor.principal
    fee_bps = request.app.state.settings.market_fee_bps
    with get_db(request).session() as session:
        offers = [
            OfferRecord.of(o)
            for o in list_offers(session, principal=principal)
            if o.by_org_id == principal.org_id
        ]
        refs = version_refs(session, [o.version_id for o in offers])
        mine = listings.search_listings(
            session,
            principal=principal,
            fee_bps=fee_bps,
            seller=principal.org_slug,
            include_withdrawn=True,
            limit=500,
        )
        sold = purchases.list_licences(session, principal=principal, side="seller")
    tables = [
        Table(
            "listings",
            (
                "id",
                "kind",
                "title",
                "model",
                "price",
                "currency",
                "period_seconds",
                "stock",
                "sold",
                "status",
            ),
            [
                (
                    x.id,
                    x.kind,
                    x.title,
                    x.model,
                    x.price,
                    x.currency,
                    x.period_seconds,
                    x.stock,
                    x.sold,
                    x.status,
                )
                for x in mine
            ],
        ),
        Table(
            "sold",
            ("id", "listing", "kind", "buyer", "status", "starts_at", "expires_at", "is_active"),
            [
                (x.id, x.listing, x.kind, x.buyer, x.status, x.starts_at, x.expires_at, x.is_active)
                for x in sold
            ],
        ),
    ]
    return twin(request, tables) or render(
        request,
        "selling.html",
        visitor,
        offers=[(o, refs.get(o.version_id, "")) for o in offers],
        listings=mine,
        sold=sold,
        kinds=KINDS,
        timed_kinds=TIMED_KINDS,
        units=list(PERIOD_UNITS),
        fee_bps=fee_bps,
    )


@router.post("/market/sell", dependencies=[Depends(check_csrf)])
def create_listing(
    request: Request,
    visitor: SignedIn,
    offer: Annotated[str, Form(max_length=40)],
    kind: Annotated[str, Form(max_length=20)],
    title: Annotated[str, Form(max_length=200)],
    price: Annotated[str, Form(max_length=30)],
    licence: Annotated[str, Form(max_length=200)],
    currency: Annotated[str, Form(max_length=3)] = "EUR",
    period: Annotated[int | None, Form(ge=1, le=1_000_000)] = None,
    unit: Annotated[str, Form(max_length=10)] = "days",
    stock: Annotated[int | None, Form(ge=1, le=10**9)] = None,
    description: Annotated[str, Form(max_length=5000)] = "",
    terms: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """List one of your offers; refused (nothing listed) unless you own the model or hold its owner's
    marketplace agreement."""
    if unit not in PERIOD_UNITS:
        raise ValidationError(f"unit: one of {', '.join(PERIOD_UNITS)}")
    data = listings.ListingCreate(
        offer=offer,
        kind=kind,  # type: ignore[arg-type]  # the model checks it against the kinds
        title=title,
        description=description,
        currency=currency.upper(),
        price=micro_units(price, field="price"),
        period_seconds=period * PERIOD_UNITS[unit] if period else None,
        stock=stock,
        licence=licence,
        terms=terms,
    )
    with get_db(request).unit_of_work() as session:
        listings.create_listing(
            session, data, principal=visitor.principal, fee_bps=request.app.state.settings.market_fee_bps
        )
    return RedirectResponse("/market/sell#listings", status_code=303)


@router.post("/market/listings/{listing_id}/withdraw", dependencies=[Depends(check_csrf)])
def withdraw_listing(request: Request, visitor: SignedIn, listing_id: str) -> Response:
    """Stop selling a listing (another organisation's is not found); licences sold stay valid."""
    with get_db(request).unit_of_work() as session:
        listings.withdraw_listing(
            session,
            listing_id[:40],
            principal=visitor.principal,
            fee_bps=request.app.state.settings.market_fee_bps,
        )
    return RedirectResponse("/market/sell#listings", status_code=303)
