"""HTTP routes of the channels under /api/v1: lifecycle, notifications, webhooks, kits, maintenance and
white label (thin, over the services)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.channels import brands, kits, lifecycle, notices, views, whitelabel
from valuechain.channels import schemas as s
from valuechain.channels.webhooks import Dispatcher, server_key
from valuechain.core.http import ReadSession, SettingsDep, WriteSession

router = APIRouter(prefix="/api/v1", tags=["channels"])


def dispatcher(request: Request) -> Dispatcher:
    """The app's webhook sender, started on first use (it sends after the unit of work commits)."""
    found = getattr(request.app.state, "webhooks", None)
    if found is None:
        settings = request.app.state.settings
        found = request.app.state.webhooks = Dispatcher(
            request.app.state.db,
            key=server_key(settings.home),
            allow_private=settings.channels_webhook_allow_private,
        )
    return found  # type: ignore[no-any-return]


Webhooks = Annotated[Dispatcher, Depends(dispatcher)]


@router.post("/models/{org}/{name}/versions/{label}/lifecycle")
def set_lifecycle(
    org: str, name: str, label: str, data: s.StageSet, session: WriteSession, principal: CurrentPrincipal,
    _: Webhooks,
) -> s.StageChangePublic:  # fmt: skip
    """Move a version along preview → active → legacy → deprecated → retired; notifies its users."""
    change = lifecycle.move_version(
        session, f"{org}/{name}@{label}", data.stage, principal=principal,
        sunset_at=data.sunset_at, successor=data.successor,
    )  # fmt: skip
    return views.stage_change(change)


@router.get("/notifications")
def list_notifications(session: ReadSession, principal: CurrentPrincipal) -> list[s.NotificationPublic]:
    """Your organisation's notifications (deprecations, retirements), newest first."""
    return [views.notification(n) for n in notices.list_notifications(session, principal=principal)]


@router.post("/webhooks", status_code=201)
def create_webhook(
    data: s.WebhookCreate, session: WriteSession, principal: CurrentPrincipal, hooks: Webhooks
) -> s.WebhookPublic:
    """Register a webhook for your notifications; the answer holds its signing secret, shown once."""
    hook = notices.create_webhook(
        session, data.url, principal=principal, key=hooks.key, allow_private=hooks.allow_private
    )
    return views.webhook(hook)


@router.get("/webhooks")
def list_webhooks(session: ReadSession, principal: CurrentPrincipal) -> list[s.WebhookPublic]:
    """Your organisation's webhooks with their delivery counts."""
    return [views.webhook(w) for w in notices.list_webhooks(session, principal=principal)]


@router.get(
    "/offers/{offer_id}/kit", response_class=Response, responses={200: {"content": {"application/zip": {}}}}
)
def download_kit(
    offer_id: str, request: Request, session: ReadSession, principal: CurrentPrincipal,
    base_url: Annotated[str | None, Query(description="API base URL; default this server's /v1.")] = None,
) -> Response:  # fmt: skip
    """A starter project for an API offer you can see (a deterministic zip)."""
    url = base_url or str(request.base_url).rstrip("/") + "/v1"
    kit = kits.build_kit(kits.kit_spec(session, offer_id, principal=principal, base_url=url))
    headers = {"content-disposition": f'attachment; filename="{kit.filename}"', "x-kit-sha256": kit.sha256}
    return Response(kit.data, media_type="application/zip", headers=headers)


@router.put("/offers/{offer_id}/support")
def set_support(
    offer_id: str, terms: lifecycle.SupportTerms, session: WriteSession, principal: CurrentPrincipal
) -> lifecycle.SupportTerms:
    """State the support terms (response time, patch cadence, service levels) of your API offer."""
    lifecycle.set_support_terms(session, offer_id, terms, principal=principal)
    return terms


@router.get("/offers/{offer_id}/service-level")
def get_service_level(
    offer_id: str, session: ReadSession, principal: CurrentPrincipal,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> s.ServiceLevelPublic:  # fmt: skip
    """Uptime and latency of an offer measured from its usage records, against its support terms."""
    return views.service_level(lifecycle.service_level(session, offer_id, principal=principal, days=days))


@router.post("/resellers", status_code=201)
def grant_reseller(
    data: whitelabel.ResellerGrant, session: WriteSession, principal: CurrentPrincipal
) -> s.ResellerPublic:
    """Grant a reseller a white-label agreement for one of your models."""
    return views.reseller(whitelabel.grant_reseller(session, data, principal=principal))


@router.get("/resellers")
def list_resellers(session: ReadSession, principal: CurrentPrincipal) -> list[s.ResellerPublic]:
    """Reseller agreements you gave or hold."""
    return [views.reseller(r) for r in whitelabel.list_resellers(session, principal=principal)]


@router.post("/white-label", status_code=201)
def create_white_label(
    data: whitelabel.WhiteLabelCreate,
    session: WriteSession,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> s.WhiteLabelPublic:
    """List a model you resell under your own brand and name."""
    record = whitelabel.create_white_label(
        session, data, principal=principal, fee_bps=settings.channels_fee_bps
    )
    return views.white_label(record)


@router.post("/white-label/{offer_id}/customers", status_code=201)
def add_customer(
    offer_id: str, data: s.CustomerAdd, session: WriteSession, principal: CurrentPrincipal
) -> s.CustomerPublic:
    """Entitle a customer to your white-label offer (within the agreement's cap), optionally with a key."""
    return views.customer(whitelabel.add_customer(session, offer_id, data.customer, principal=principal,
                                                  issue_key=data.issue_key))  # fmt: skip


@router.put("/brand")
def set_brand(data: brands.BrandSet, session: WriteSession, principal: CurrentPrincipal) -> s.BrandPublic:
    """Brand the console for visitors of your host name."""
    return views.brand(brands.set_brand(session, data, principal=principal))
