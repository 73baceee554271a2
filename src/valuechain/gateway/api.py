"""REST routes of the gateway under /api/v1: usage reports (market and oversight have their own routers)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession
from valuechain.gateway.usage import usage_report

router = APIRouter(prefix="/api/v1", tags=["api-channel"])


async def flush_metering(request: Request) -> None:
    """Wait for this process's metering commits in flight, so a report includes every answered request."""
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is not None:
        await gateway.admission.recorder.flush()


@router.get("/usage", dependencies=[Depends(flush_metering)])
def get_usage(
    session: ReadSession,
    principal: CurrentPrincipal,
    view: Literal["consumer", "provider"] = "consumer",
    since: date | None = None,
    until: date | None = None,
    group_by: list[Literal["day", "model", "org", "key"]] = Query(default=["day", "model", "org", "key"]),
) -> list[dict[str, Any]]:
    """Usage by day × model × org × key: your own calls, or (view=provider) the traffic of your offers."""
    return usage_report(
        session, principal=principal, view=view, since=since, until=until, group_by=tuple(group_by)
    )
