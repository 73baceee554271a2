"""``/metrics`` in the Prometheus text format: for platform operators' keys, or on a port of its own."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.errors import NotFoundError
from valuechain.core.http import SettingsDep
from valuechain.core.metrics import REGISTRY, exposition
from valuechain.core.settings import Settings

log = logging.getLogger("valuechain")
router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
def read_metrics(principal: CurrentPrincipal, settings: SettingsDep) -> Response:
    """This process's metrics (Prometheus text format); platform operators only. With
    ``VALUECHAIN_METRICS_PORT`` set they are served there instead, and this route answers 404."""
    if settings.metrics_port is not None:
        raise NotFoundError(f"metrics are served on port {settings.metrics_port}")
    authorize(principal, Action.metrics_read)
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def serve_metrics_port(settings: Settings) -> Any:
    """Start the unauthenticated metrics listener when ``metrics_port`` is set; the server, to shut down."""
    if settings.metrics_port is None:
        return None
    from prometheus_client import start_http_server

    server, _thread = start_http_server(settings.metrics_port, addr=settings.host, registry=REGISTRY)
    log.info("metrics at http://%s:%d/metrics", settings.host, settings.metrics_port)
    return server
