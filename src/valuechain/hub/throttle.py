"""Per-client request budgets for hub routes that anyone may call (issue 17: ``validate-yaml``)."""

from __future__ import annotations

import threading
import time
from collections import deque

from valuechain.hub.errors import HubError


class RateLimitedError(HubError):
    """The client used its budget for this route; ``Retry-After`` says when to come back."""

    status_code = 429
    code = "rate_limited"
    hub_code = "RateLimited"


class ClientThrottle:
    """At most ``limit`` calls per client in any ``window_s`` seconds, counted in this process."""

    def __init__(self, *, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, *, now: float | None = None) -> None:
        """Count a call by ``client``; raise ``RateLimitedError`` when it is over its budget."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._calls) > 10_000:  # forget idle clients so the table stays small
                self._calls = {c: q for c, q in self._calls.items() if q and q[-1] > now - self.window_s}
            calls = self._calls.setdefault(client, deque())
            while calls and calls[0] <= now - self.window_s:
                calls.popleft()
            if len(calls) >= self.limit:
                retry = max(1, int(calls[0] + self.window_s - now) + 1)
                raise RateLimitedError(
                    f"too many requests: at most {self.limit} per {int(self.window_s)} s; retry in {retry} s",
                    headers={"Retry-After": str(retry)},
                )
            calls.append(now)
