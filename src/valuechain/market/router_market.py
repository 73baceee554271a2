"""HTTP routes of the marketplace under /api/v1 (issue 11): credits, listings, purchases, licences,
traceable downloads, manifests, trace and invoices. Thin: each parses, calls one service, returns a schema."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession, SettingsDep, WriteSession
from valuechain.market import credits, invoices, listings, purchases, sales
from valuechain.market.copies import SigningKey, StampedCopy
from valuechain.market.schemas_market import (
    BuyBody,
    GrantBody,
    LicencePublic,
    ListingPublic,
    StatementPublic,
    TracePublic,
)

router = APIRouter(prefix="/api/v1", tags=["marketplace"])


@router.get("/credits")
def get_credits(
    session: ReadSession,
    principal: CurrentPrincipal,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StatementPublic:
    """Your organisation's balance and ledger lines (micro-units), newest first."""
    return StatementPublic.of(credits.balance(session, principal=principal, before=before, limit=limit))


@router.post("/credits/grants", status_code=201)
def grant_credits(body: GrantBody, session: WriteSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Operators only: add credits to an organisation's wallet (idempotent per key)."""
    grant = credits.grant(
        session,
        body.org,
        body.amount,
        principal=principal,
        idempotency_key=body.idempotency_key,
        memo=body.memo,
    )
    return {
        "org": grant.org,
        "amount": grant.amount,
        "balance": grant.balance,
        "transaction": grant.transaction,
    }


@router.get("/market/listings")
def list_listings(
    session: ReadSession,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    seller: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=10**15)] = None,
) -> list[ListingPublic]:
    """The catalogue: listings you may see, filtered by kind, seller, text and maximum price."""
    rows = listings.search_listings(
        session,
        principal=principal,
        fee_bps=settings.market_fee_bps,
        kind=kind,
        seller=seller,
        query=q,
        max_price=max_price,
    )
    return [ListingPublic.of(r) for r in rows]


@router.post("/market/listings", status_code=201)
def create_listing(
    body: listings.ListingCreate, session: WriteSession, principal: CurrentPrincipal, settings: SettingsDep
) -> ListingPublic:
    """List one of your offers (you own the model, or hold the owner's agreement for `marketplace`)."""
    return ListingPublic.of(
        listings.create_listing(session, body, principal=principal, fee_bps=settings.market_fee_bps)
    )


@router.post("/market/listings/{listing_id}/withdraw")
def withdraw_listing(
    listing_id: str, session: WriteSession, principal: CurrentPrincipal, settings: SettingsDep
) -> ListingPublic:
    """Stop selling a listing; licences sold stay valid."""
    return ListingPublic.of(
        listings.withdraw_listing(session, listing_id, principal=principal, fee_bps=settings.market_fee_bps)
    )


@router.post("/market/listings/{listing_id}/buy", status_code=201)
def buy_listing(
    listing_id: str,
    body: BuyBody,
    session: WriteSession,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> LicencePublic:
    """Pay a listing's price from your wallet and get its licence (`Idempotency-Key` makes a retry safe)."""
    record = purchases.buy(
        session,
        listing_id,
        principal=principal,
        fee_bps=settings.market_fee_bps,
        idempotency_key=idempotency_key,
        expected_price=body.price,
        auto_renew=body.auto_renew,
    )
    return LicencePublic.of(record)


@router.get("/licences")
def list_licences(
    session: ReadSession, principal: CurrentPrincipal, side: Literal["buyer", "seller"] = "buyer"
) -> list[LicencePublic]:
    """Licences your organisation bought, or (``side=seller``) sold."""
    return [LicencePublic.of(r) for r in purchases.list_licences(session, principal=principal, side=side)]


@router.post("/licences/{licence_id}/renew")
def renew_licence(
    licence_id: str,
    session: WriteSession,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> LicencePublic:
    """Pay one more period of a hire or subscription."""
    record = purchases.renew(
        session,
        licence_id,
        principal=principal,
        fee_bps=settings.market_fee_bps,
        idempotency_key=idempotency_key,
    )
    return LicencePublic.of(record)


@router.post("/licences/{licence_id}/cancel")
def cancel_licence(licence_id: str, session: WriteSession, principal: CurrentPrincipal) -> LicencePublic:
    """Stop renewing; access lasts to the end of the paid period."""
    return LicencePublic.of(purchases.cancel(session, licence_id, principal=principal))


def blob_path_of(request: Request) -> sales.BlobPath:
    """sha256 → a local file: the hub's blob store, copied to a temporary file when it is remote."""
    store = request.app.state.blob_store

    def path(sha256: str) -> Path:
        local = store.local_path(sha256)
        if local is not None:
            return Path(local)
        handle = tempfile.NamedTemporaryFile(prefix="vc-sale-", delete=False)  # noqa: SIM115
        with handle:
            for chunk in store.read_range(sha256):
                handle.write(chunk)
        return Path(handle.name)

    return path


@router.get("/licences/{licence_id}/files/{path:path}")
def download_file(
    licence_id: str, path: str, request: Request, session: WriteSession, principal: CurrentPrincipal
) -> Response:
    """Your own traceable copy of a bought file (weights carry your licence id in their metadata)."""
    copy, sha = sales.download(
        session, licence_id, path, principal=principal, blob_path=blob_path_of(request)
    )
    headers = {"X-Content-SHA256": sha, "Content-Disposition": f'attachment; filename="{Path(path).name}"'}
    if isinstance(copy, StampedCopy):
        return StreamingResponse(copy.chunks(), media_type="application/octet-stream", headers=headers)
    return FileResponse(copy, media_type="application/octet-stream", headers=headers)


@router.get("/licences/{licence_id}/manifest")
def get_manifest(
    licence_id: str,
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> dict[str, Any]:
    """The Ed25519-signed manifest of your copies (check it offline with `valuechain market verify`)."""
    key = SigningKey.of_home(settings.home)
    return sales.manifest(session, licence_id, principal=principal, blob_path=blob_path_of(request), key=key)


@router.get("/market/signing-key")
def signing_key(settings: SettingsDep, principal: CurrentPrincipal) -> dict[str, str]:
    """The platform's public Ed25519 key that signs sale manifests (base64, raw 32 bytes)."""
    return sales.signing_key(settings.home, principal=principal)


@router.post("/market/trace")
async def trace_file(request: Request, session: ReadSession, principal: CurrentPrincipal) -> TracePublic:
    """Which licence a found weights file (the request body) was sold under: for its seller, the operator."""
    with tempfile.NamedTemporaryFile(prefix="vc-trace-") as handle:
        async for chunk in request.stream():
            handle.write(chunk)
        handle.flush()
        found = await run_in_threadpool(sales.trace, session, Path(handle.name), principal=principal)
        return TracePublic.of(found)


_MEDIA = {"pdf": "application/pdf", "csv": "text/csv", "xml": "application/xml"}


@router.get("/invoices/{org}/{month}")
def monthly_invoice(
    org: str,
    month: str,
    session: WriteSession,
    principal: CurrentPrincipal,
    format: Literal["pdf", "csv", "xml"] = "pdf",
    seller: str | None = Query(default=None, description="The seller, when the month has several."),
) -> Response:
    """The month's invoice to ``org`` (issued on first request, then immutable)."""
    issued = invoices.issue_monthly(session, org, month, principal=principal, seller=seller)
    return _document(issued, format)


@router.get("/charges/{charge_id}/invoice")
def purchase_invoice(
    charge_id: str,
    session: WriteSession,
    principal: CurrentPrincipal,
    format: Literal["pdf", "csv", "xml"] = "pdf",
) -> Response:
    """The invoice of one purchase or renewal."""
    return _document([invoices.issue_for_charge(session, charge_id, principal=principal)], format)


def _document(issued: list[invoices.InvoiceRecord], fmt: str) -> Response:
    invoice = invoices.single(issued)
    return Response(
        invoices.render(invoice, fmt),
        media_type=_MEDIA[fmt],
        headers={
            "X-Invoice-Number": invoice.number,
            "Content-Disposition": f'attachment; filename="{invoice.number}.{fmt}"',
        },
    )
