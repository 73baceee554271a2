"""The marketplace in the console (``/market``, issue 11): the catalogue with filters and a buy button,
the organisation's balance and latest ledger lines, its licences (renew, cancel, download its traceable
copies) and invoices of its purchases. The seller's side is ``selling.py``."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from valuechain.console.web import ConsoleRoute, SignedIn, Table, check_csrf, get_db, render, twin
from valuechain.market import invoices, listings, purchases, sales
from valuechain.market.copies import StampedCopy
from valuechain.market.listings import KINDS
from valuechain.market.router_market import blob_path_of
from valuechain.market.statements import wallet_statement

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/market")
def show_market(
    request: Request,
    visitor: SignedIn,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    seller: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The catalogue (filters in the URL), your licences and your purchases; ``?format=csv&table=…``."""
    principal = visitor.principal
    fee_bps = request.app.state.settings.market_fee_bps
    with get_db(request).session() as session:
        catalogue = listings.search_listings(
            session,
            principal=principal,
            fee_bps=fee_bps,
            kind=kind or None,
            seller=seller or None,
            query=q or None,
        )
        licences = purchases.list_licences(session, principal=principal)
        charges = purchases.list_charges(session, principal=principal)
        wallet = wallet_statement(session, principal=principal, limit=5)
    tables = [
        Table(
            "listings",
            (
                "id",
                "kind",
                "title",
                "model",
                "seller",
                "price",
                "currency",
                "period_seconds",
                "stock",
                "sold",
            ),
            [
                (
                    x.id,
                    x.kind,
                    x.title,
                    x.model,
                    x.seller,
                    x.price,
                    x.currency,
                    x.period_seconds,
                    x.stock,
                    x.sold,
                )
                for x in catalogue
            ],  # fmt: skip
        ),
        Table(
            "licences",
            ("id", "kind", "seller", "status", "starts_at", "expires_at", "is_active"),
            [(x.id, x.kind, x.seller, x.status, x.starts_at, x.expires_at, x.is_active) for x in licences],
        ),
        Table(
            "charges",
            ("id", "licence", "seller", "description", "amount", "currency", "created_at"),
            [(c.id, c.licence, c.seller, c.description, c.amount, c.currency, c.created_at) for c in charges],
        ),
        Table(
            "ledger",
            ("id", "at", "kind", "memo", "amount"),
            [(x.id, x.at, x.kind, x.memo, x.amount) for x in wallet.lines],
        ),
    ]
    return twin(request, tables) or render(
        request,
        "market.html",
        visitor,
        catalogue=catalogue,
        licences=licences,
        charges=charges,
        wallet=wallet,
        kinds=KINDS,
        kind=kind or "",
        q=q or "",
        buy_key=secrets.token_hex(12),
    )


@router.post("/market/listings/{listing_id}/buy", dependencies=[Depends(check_csrf)])
def buy_listing(
    request: Request,
    visitor: SignedIn,
    listing_id: str,
    price: Annotated[int, Form(ge=0)],
    key: Annotated[str, Form(min_length=8, max_length=100)],
) -> Response:
    """Buy at the price the page showed (a changed price is refused); the form's key makes a resubmit safe."""
    with get_db(request).unit_of_work() as session:
        purchases.buy(
            session,
            listing_id,
            principal=visitor.principal,
            fee_bps=request.app.state.settings.market_fee_bps,
            idempotency_key=f"console:{key}",
            expected_price=price,
        )
    return RedirectResponse("/market#licences", status_code=303)


@router.post("/market/licences/{licence_id}/{action}", dependencies=[Depends(check_csrf)])
def change_licence(request: Request, visitor: SignedIn, licence_id: str, action: str) -> Response:
    """Renew (one more period, paid now) or cancel a hire or subscription."""
    with get_db(request).unit_of_work() as session:
        if action == "renew":
            purchases.renew(
                session,
                licence_id,
                principal=visitor.principal,
                fee_bps=request.app.state.settings.market_fee_bps,
                idempotency_key=secrets.token_hex(12),
            )
        elif action == "cancel":
            purchases.cancel(session, licence_id, principal=visitor.principal)
        else:
            return Response("unknown action\n", status_code=404, media_type="text/plain")
    return RedirectResponse("/market#licences", status_code=303)


@router.get("/market/licences/{licence_id}/files/{path:path}")
def download_copy(request: Request, visitor: SignedIn, licence_id: str, path: str) -> Response:
    """Your traceable copy of a bought file."""
    with get_db(request).unit_of_work() as session:
        copy, sha = sales.download(
            session, licence_id, path, principal=visitor.principal, blob_path=blob_path_of(request)
        )
    headers = {"X-Content-SHA256": sha, "Content-Disposition": f'attachment; filename="{Path(path).name}"'}
    if isinstance(copy, StampedCopy):
        return StreamingResponse(copy.chunks(), media_type="application/octet-stream", headers=headers)
    return FileResponse(copy, media_type="application/octet-stream", headers=headers)


@router.get("/market/charges/{charge_id}/invoice")
def charge_invoice(
    request: Request,
    visitor: SignedIn,
    charge_id: str,
    format: Annotated[str, Query(pattern="^(pdf|csv|xml)$")] = "pdf",
) -> Response:
    """The invoice of one purchase (issued on first request, then the same document)."""
    with get_db(request).unit_of_work() as session:
        invoice = invoices.issue_for_charge(session, charge_id, principal=visitor.principal)
        body = invoices.render(invoice, format)
    media = {"pdf": "application/pdf", "csv": "text/csv", "xml": "application/xml"}[format]
    disposition = f'attachment; filename="{invoice.number}.{format}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
