"""Misuse rules evaluated on the gateway's hot path: patterns in prompts or outputs, rate anomalies.

Rules are read from the database per provider and cached briefly. A match becomes a ``MisuseEvent``
(written with the request's usage record) and, per the rule, flags, throttles or suspends the key or org.
A suspending prompt rule also refuses the request that matched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.ids import new_id
from valuechain.gateway.errors import GatewayError
from valuechain.oversight.models import MisuseRule

if TYPE_CHECKING:
    from valuechain.gateway.access import Caller, Route


# Rules scan at most this much of a prompt or output: patterns are providers' regular expressions, and the
# scan runs on the request path (bounded input bounds the cost of a pathological pattern).
SCAN_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    name: str
    kind: str
    target: str
    regex: re.Pattern[str] | None
    threshold_rpm: int | None
    action: str
    scope: str
    throttle_rpm: int | None


class RuleBook:
    """Compiled rules per provider; ``on_action`` applies throttle/suspend (with audit) off the hot path."""

    def __init__(
        self,
        db: Database,
        *,
        on_action: Callable[[list[dict[str, Any]]], Any] | None = None,
        ttl_s: float = 5.0,
    ) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._rules: dict[str, tuple[float, list[CompiledRule]]] = {}
        self._rates: dict[str, tuple[int, int]] = {}
        self.on_action = on_action

    def invalidate(self) -> None:
        self._rules.clear()

    def rules_of(self, provider_org_id: str) -> list[CompiledRule]:
        now = time.monotonic()
        cached = self._rules.get(provider_org_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._db.session() as session:
            rows = (
                session.execute(
                    select(MisuseRule).where(
                        MisuseRule.provider_org_id == provider_org_id, MisuseRule.enabled.is_(True)
                    )
                )
                .scalars()
                .all()
            )
            rules = [
                CompiledRule(
                    r.id,
                    r.name,
                    r.kind,
                    r.target,
                    re.compile(r.pattern, re.IGNORECASE) if r.pattern else None,
                    r.threshold_rpm,
                    r.action,
                    r.scope,
                    r.throttle_rpm,
                )
                for r in rows
            ]
        self._rules[provider_org_id] = (now + self._ttl_s, rules)
        return rules

    def _event(
        self, rule: CompiledRule, caller: Caller, route: Route, request_id: str | None, detail: dict[str, Any]
    ) -> dict[str, Any]:
        p = caller.principal
        return {
            "id": new_id("mev"),
            "created_at": utcnow(),
            "provider_org_id": route.provider_org_id,
            "rule_id": rule.id,
            "org_id": p.org_id,
            "key_id": p.key_id,
            "request_id": request_id,
            "action": rule.action,
            "detail": {"rule": rule.name, "scope": rule.scope, "throttle_rpm": rule.throttle_rpm, **detail},
        }

    async def check_prompt(self, caller: Caller, route: Route, text: str) -> None:
        """Rate and prompt-pattern rules before the backend call; a suspending match refuses the request."""
        rules = self.rules_of(route.provider_org_id)
        if not rules:
            return
        events = []
        for rule in rules:
            if rule.kind == "rate" and rule.threshold_rpm and self._over_rate(rule, caller):
                events.append(self._event(rule, caller, route, None, {"match": "rate"}))
            elif rule.kind == "pattern" and rule.target in ("prompt", "both") and rule.regex is not None:
                m = rule.regex.search(text[:SCAN_CHARS])
                if m:
                    events.append(self._event(rule, caller, route, None, {"match": "prompt"}))
        if events:
            await self.apply(events, record=True)
            suspending = [e for e in events if e["action"] == "suspend"]
            if suspending:
                raise GatewayError(
                    f"request refused and access suspended by the provider's misuse rule "
                    f"`{suspending[0]['detail']['rule']}`",
                    status_code=403,
                    code="suspended",
                )

    def _over_rate(self, rule: CompiledRule, caller: Caller) -> bool:
        subject = caller.principal.key_id if rule.scope == "key" else caller.principal.org_id
        key, minute = f"{rule.id}:{subject}", int(time.time() // 60)
        count_minute, count = self._rates.get(key, (minute, 0))
        count = count + 1 if count_minute == minute else 1
        self._rates[key] = (minute, count)
        return count == (rule.threshold_rpm or 0) + 1

    def check_output(
        self, caller: Caller, route: Route, request_id: str, text: str | None
    ) -> list[dict[str, Any]]:
        """Output-pattern rules after the response; events go into the request's usage batch."""
        if not text:
            return []
        return [
            self._event(r, caller, route, request_id, {"match": "output"})
            for r in self.rules_of(route.provider_org_id)
            if r.kind == "pattern"
            and r.target in ("output", "both")
            and r.regex
            and r.regex.search(text[:SCAN_CHARS])
        ]

    async def apply(self, events: list[dict[str, Any]], *, record: bool = False) -> None:
        """Throttle or suspend per the events' rules (and record them when not already batched)."""
        if self.on_action is not None:
            result = self.on_action(events if record else [dict(e, recorded=True) for e in events])
            if hasattr(result, "__await__"):
                await result
