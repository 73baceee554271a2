"""The hub's routes under /api/v1 (the Hugging Face surface itself is mounted at /hub)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession
from valuechain.hub.reports import downloads_report

router = APIRouter(prefix="/api/v1", tags=["hub"])


@router.get("/downloads")
def get_downloads(
    session: ReadSession,
    principal: CurrentPrincipal,
    view: Literal["provider", "consumer"] = "provider",
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """Open-weights downloads by day × model × version × organisation (next to `/api/v1/usage`)."""
    return downloads_report(session, principal=principal, view=view, since=since, until=until)
