"""One request, observed: its id (a context variable and the ``X-Request-Id`` header) and its metrics.

The id is made here, once per request (``req_…``), and is the id of everything the request causes: the
gateway's usage record, the hub's error answers, the ``X-Request-Id`` sent to a remote inference backend,
every log line (``core.logs``). An id a client sends is never trusted as ours (it would be a usage
record's primary key).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from contextvars import ContextVar
from typing import Any

from valuechain.core.ids import new_id
from valuechain.core.metrics import ERRORS, LATENCY, REQUESTS

REQUEST_ID: ContextVar[str | None] = ContextVar("valuechain_request_id", default=None)
_HEADER = b"x-request-id"


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return REQUEST_ID.get()


def surface_of(path: str) -> str:
    if path.startswith("/v1") or path in ("/tokenize", "/detokenize", "/tokenizer_info"):
        return "v1"
    if path.startswith("/hub"):
        return "hub"
    if path.startswith("/api/"):
        return "api"
    return "other"


def route_of(scope: dict[str, Any], fast_paths: Collection[str]) -> str:
    """The route template that served the request ("unmatched" for none: raw paths are unbounded)."""
    path = scope.get("path", "")
    if path in fast_paths:
        return str(path)
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "unmatched"
    root = scope.get("root_path", "")
    return f"{root}{template}" if root and not str(template).startswith(root) else str(template)


class Observe:
    """ASGI middleware, outermost: sets the request id, adds its header, counts and times the request.

    Latency runs until the last body byte is sent (not until background work, such as the metering
    commit after a /v1 answer, is done). The labelled children are cached: a scrape-free hot path costs a
    dict lookup, two increments and one histogram observation.
    """

    def __init__(self, app: Any, *, fast_paths: Collection[str] = ()) -> None:
        self.app = app
        self.fast_paths = frozenset(fast_paths)
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any, Any]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id("req")
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status, ended = 500, 0.0

        async def observed_send(message: dict[str, Any]) -> None:
            nonlocal status, ended
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers") or []
                if not any(name.lower() == _HEADER for name, _ in headers):
                    message["headers"] = [*headers, (_HEADER, request_id.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                ended = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            REQUEST_ID.reset(token)
            self._observe(scope, status, (ended or time.perf_counter()) - started)

    def _observe(self, scope: dict[str, Any], status: int, seconds: float) -> None:
        key = (scope.get("path", ""), scope.get("method", ""), status)
        surface = surface_of(key[0])
        route = route_of(scope, self.fast_paths)
        cache_key = (surface, route, key[1], status)
        children = self._children.get(cache_key)
        if children is None:
            kind = "server" if status >= 500 else "client" if status >= 400 else None
            children = (
                REQUESTS.labels(surface, route, key[1], str(status)),
                LATENCY.labels(surface, route),
                ERRORS.labels(surface, route, kind) if kind else None,
            )
            if len(self._children) < 10_000:  # bounded, whatever the traffic
                self._children[cache_key] = children
        children[0].inc()
        children[1].observe(seconds)
        if children[2] is not None:
            children[2].inc()
