"""Version lifecycle and maintenance in the console (issue 11, part 7): the owner moves a version along
preview → active → legacy → deprecated → retired from the model page; an API offer's support terms and
the service level measured against them (``/offers/{offer}/service-level``). The rules (who, which moves,
whom it notifies) are ``channels.lifecycle``'s."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from valuechain.channels import lifecycle
from valuechain.channels.router import dispatcher
from valuechain.console.web import (
    ConsoleRoute,
    SignedIn,
    Table,
    check_csrf,
    day_start,
    get_db,
    render,
    twin,
)
from valuechain.registry.service import offer_record

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.post("/models/{org}/{name}/versions/{label}/lifecycle", dependencies=[Depends(check_csrf)])
def move_version(
    request: Request,
    org: str,
    name: str,
    label: str,
    visitor: SignedIn,
    stage: Annotated[str, Form(max_length=20)],
    sunset: Annotated[date | None, Form()] = None,
    successor: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Move a version forward (the model's owner; another organisation's model answers as missing or
    forbidden, nothing moved); a deprecation or retirement notifies its users and their webhooks."""
    dispatcher(request)  # started before the commit, so it sends the deliveries this move queues
    slug = f"{org}/{name}"
    successor_ref = successor.strip() or None
    if successor_ref is not None and "@" not in successor_ref:  # a label of this model
        successor_ref = f"{slug}@{successor_ref}"
    with get_db(request).unit_of_work() as session:
        lifecycle.move_version(
            session,
            f"{slug}@{label}",
            stage,
            principal=visitor.principal,
            sunset_at=day_start(sunset),
            successor=successor_ref,
        )
    return RedirectResponse(f"/models/{slug}#files", status_code=303)


@router.get("/offers/{offer_id}/service-level")
def show_service_level(
    request: Request,
    offer_id: str,
    visitor: SignedIn,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Response:
    """Uptime and latency of an offer measured from its usage records, against its support terms; its
    provider states the terms here."""
    with get_db(request).session() as session:
        level = lifecycle.service_level(session, offer_id, principal=visitor.principal, days=days)
        offer = offer_record(session, offer_id)
    is_provider = offer is not None and offer.by_org_id == visitor.principal.org_id and offer.channel == "api"
    terms = level.terms
    table = Table(
        "service_level",
        ("measure", "measured", "promised", "met"),
        [
            ("requests", level.requests, None, None),
            ("server_errors", level.server_errors, None, None),
            ("uptime_pct", level.uptime_pct, terms.uptime_target_pct if terms else None, level.meets_uptime),
            ("latency_p50_ms", level.latency_p50_ms, None, None),
            (
                "latency_p95_ms",
                level.latency_p95_ms,
                terms.latency_p95_ms if terms else None,
                level.meets_latency,
            ),
            ("response_time_hours", None, terms.response_time_hours if terms else None, None),
            ("patch_cadence_days", None, terms.patch_cadence_days if terms else None, None),
        ],
    )
    return twin(request, [table]) or render(
        request,
        "service_level.html",
        visitor,
        level=level,
        table=table,
        offer=offer,
        is_provider=is_provider,
        days=days,
    )


@router.post("/offers/{offer_id}/support", dependencies=[Depends(check_csrf)])
def set_support(
    request: Request,
    offer_id: str,
    visitor: SignedIn,
    response_time_hours: Annotated[int, Form()],
    patch_cadence_days: Annotated[int, Form()],
    uptime_target_pct: Annotated[float, Form()] = 99.5,
    latency_p95_ms: Annotated[float, Form()] = 2000,
) -> Response:
    """State the support terms of your API offer (another organisation's answers as missing)."""
    terms = lifecycle.SupportTerms(
        response_time_hours=response_time_hours,
        patch_cadence_days=patch_cadence_days,
        uptime_target_pct=uptime_target_pct,
        latency_p95_ms=latency_p95_ms,
    )
    with get_db(request).unit_of_work() as session:
        lifecycle.set_support_terms(session, offer_id[:40], terms, principal=visitor.principal)
    return RedirectResponse(f"/offers/{offer_id[:40]}/service-level", status_code=303)
