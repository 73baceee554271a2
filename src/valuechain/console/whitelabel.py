"""White label in the console (``/resellers``, issue 11, part 5): the provider grants and revokes reseller
agreements; the reseller sees those granted to it, lists a model under its own brand and name, entitles
customers and issues their keys (the secret shown once), and brands its host name. Every rule (markup,
brand rules, cap, expiry) is ``channels.whitelabel``'s."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from valuechain.channels import brands, whitelabel
from valuechain.console.web import (
    ConsoleRoute,
    SignedIn,
    Table,
    check_csrf,
    day_start,
    get_db,
    micro_units,
    render,
    twin,
)
from valuechain.registry import claims
from valuechain.registry.catalogue import CatalogueFilters, catalogue

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/resellers")
def show_resellers(request: Request, visitor: SignedIn) -> Response:
    """Agreements you granted (revoke) and hold, your white-label offers and customers, your brand."""
    principal = visitor.principal
    with get_db(request).session() as session:
        agreements = whitelabel.list_resellers(session, principal=principal)
        offers = whitelabel.list_white_labels(session, principal=principal)
        own_models = catalogue(
            session, principal=principal, filters=CatalogueFilters(org=principal.org_slug), limit=100
        ).entries
        brand = brands.brand_of(session, principal=principal)
    granted = [a for a in agreements if a.provider == principal.org_slug]
    held = [a for a in agreements if a.reseller == principal.org_slug]
    columns = (
        "agreement", "provider", "reseller", "model", "wholesale_input_per_mtok", "wholesale_output_per_mtok",
        "max_markup_pct", "max_customers", "expires_at", "revoked",
    )  # fmt: skip

    def rows(found: list[whitelabel.ResellerRecord]) -> list[tuple[object, ...]]:
        return [
            (a.agreement_id, a.provider, a.reseller, a.model, a.wholesale_input_per_mtok,
             a.wholesale_output_per_mtok, a.max_markup_pct, a.max_customers, a.expires_at, a.revoked)
            for a in found
        ]  # fmt: skip

    tables = [
        Table("granted", columns, rows(granted)),
        Table("held", columns, rows(held)),
        Table(
            "white_label",
            (
                "offer",
                "model_name",
                "brand",
                "upstream",
                "input_per_mtok",
                "output_per_mtok",
                "markup_pct",
                "customers",
            ),
            [
                (
                    w.offer_id,
                    w.model_name,
                    w.brand,
                    w.upstream,
                    w.input_per_mtok,
                    w.output_per_mtok,
                    w.markup_pct,
                    " ".join(w.customers),
                )
                for w in offers
            ],
        ),  # fmt: skip
    ]
    return twin(request, tables) or render(
        request,
        "resellers.html",
        visitor,
        granted=granted,
        held=held,
        offers=offers,
        own_models=[m.slug for m in own_models],
        own_brand=brand,
    )


@router.post("/resellers", dependencies=[Depends(check_csrf)])
def grant_reseller(
    request: Request,
    visitor: SignedIn,
    reseller: Annotated[str, Form(max_length=64)],
    model: Annotated[str, Form(max_length=200)],
    wholesale_input: Annotated[str, Form(max_length=30)],
    wholesale_output: Annotated[str, Form(max_length=30)],
    max_markup_pct: Annotated[int, Form()],
    max_customers: Annotated[int, Form()],
    forbidden_terms: Annotated[str, Form(max_length=2000)] = "",
    may_use_upstream_name: Annotated[bool, Form()] = False,
    expires: Annotated[date | None, Form()] = None,
) -> Response:
    """Grant a reseller a white-label agreement for one of your models (prices per million tokens)."""
    data = whitelabel.ResellerGrant(
        reseller=reseller.strip(),
        model=model.strip(),
        wholesale_input_per_mtok=micro_units(wholesale_input, field="wholesale input price"),
        wholesale_output_per_mtok=micro_units(wholesale_output, field="wholesale output price"),
        max_markup_pct=max_markup_pct,
        max_customers=max_customers,
        brand_rules=whitelabel.BrandRules(
            forbidden_terms=[t.strip() for t in forbidden_terms.split(",") if t.strip()],
            may_use_upstream_name=may_use_upstream_name,
        ),
        expires_at=day_start(expires),
    )
    with get_db(request).unit_of_work() as session:
        whitelabel.grant_reseller(session, data, principal=visitor.principal)
    return RedirectResponse("/resellers#granted", status_code=303)


@router.post("/resellers/{agreement_id}/revoke", dependencies=[Depends(check_csrf)])
def revoke_reseller(request: Request, visitor: SignedIn, agreement_id: str) -> Response:
    """End a reseller agreement you granted (the registry agreement behind it): no new white-label offer
    or customer under it (offers already made keep serving until its expiry, as through the API)."""
    with get_db(request).unit_of_work() as session:
        claims.revoke_agreement(session, agreement_id[:40], principal=visitor.principal)
    return RedirectResponse("/resellers#granted", status_code=303)


@router.post("/white-label", dependencies=[Depends(check_csrf)])
def create_white_label(
    request: Request,
    visitor: SignedIn,
    agreement: Annotated[str, Form(max_length=40)],
    model_name: Annotated[str, Form(max_length=120)],
    brand: Annotated[str, Form(max_length=200)],
    markup_pct: Annotated[int, Form()],
    version: Annotated[str, Form(max_length=100)] = "",
    max_output_tokens: Annotated[int, Form()] = 1024,
) -> Response:
    """List the upstream model under your brand and name, at wholesale plus your markup (within the
    agreement, or nothing is created)."""
    data = whitelabel.WhiteLabelCreate(
        agreement=agreement,
        model_name=model_name.strip(),
        brand=brand.strip(),
        markup_pct=markup_pct,
        version=version.strip() or None,
        max_output_tokens=max_output_tokens,
    )
    with get_db(request).unit_of_work() as session:
        whitelabel.create_white_label(
            session, data, principal=visitor.principal, fee_bps=request.app.state.settings.channels_fee_bps
        )
    return RedirectResponse("/resellers#white-label", status_code=303)


@router.post("/white-label/{offer_id}/customers", dependencies=[Depends(check_csrf)])
def add_customer(
    request: Request,
    visitor: SignedIn,
    offer_id: str,
    customer: Annotated[str, Form(max_length=64)],
    issue_key: Annotated[bool, Form()] = False,
) -> Response:
    """Entitle a customer to your white-label offer (within the cap); an issued key's secret is shown on
    this answer only."""
    with get_db(request).unit_of_work() as session:
        added = whitelabel.add_customer(
            session, offer_id[:40], customer.strip(), principal=visitor.principal, issue_key=issue_key
        )
    if added.secret is None:
        return RedirectResponse("/resellers#white-label", status_code=303)
    return render(request, "customer_key.html", visitor, customer=added)


@router.post("/brand", dependencies=[Depends(check_csrf)])
def set_brand(
    request: Request,
    visitor: SignedIn,
    host: Annotated[str, Form(max_length=260)],
    display_name: Annotated[str, Form(max_length=200)],
    accent: Annotated[str, Form(max_length=7)] = "#1f6feb",
) -> Response:
    """Brand the console for visitors of your host name (admins)."""
    data = brands.BrandSet(host=host.strip().lower(), display_name=display_name.strip(), accent=accent)
    with get_db(request).unit_of_work() as session:
        brands.set_brand(session, data, principal=visitor.principal)
    return RedirectResponse("/resellers#brand", status_code=303)
