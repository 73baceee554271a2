"""Console pages of the channels (issue 11): notifications and webhooks, kit downloads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from valuechain.channels import kits, notices
from valuechain.console.web import ConsoleRoute, CurrentVisitor, SignedIn, Table, get_db, render, twin

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/notifications")
def show_notifications(request: Request, visitor: SignedIn) -> Response:
    """Deprecations and retirements of models the organisation uses, and its webhooks."""
    with get_db(request).session() as session:
        notes = notices.list_notifications(session, principal=visitor.principal)
        hooks = notices.list_webhooks(session, principal=visitor.principal)
    table = Table(
        "notifications",
        ("created_at", "kind", "subject", "message"),
        [(n.created_at, n.kind, n.subject, n.message) for n in notes],
    )
    hook_table = Table(
        "webhooks",
        ("id", "url", "delivered", "failed"),
        [(h.id, h.url, h.delivered, h.failed) for h in hooks],
    )
    return twin(request, [table, hook_table]) or render(
        request, "notifications.html", visitor, table=table, hooks=hook_table
    )


@router.get("/offers/{offer_id}/kit.zip")
def download_kit(offer_id: str, request: Request, visitor: CurrentVisitor) -> Response:
    """The starter kit of an API offer the visitor can see (a hidden offer is a 404 page)."""
    base_url = str(request.base_url).rstrip("/") + "/v1"
    with get_db(request).session() as session:
        spec = kits.kit_spec(session, offer_id, principal=visitor.principal, base_url=base_url)
    kit = kits.build_kit(spec)
    headers = {"content-disposition": f'attachment; filename="{kit.filename}"', "x-kit-sha256": kit.sha256}
    return Response(kit.data, media_type="application/zip", headers=headers)
