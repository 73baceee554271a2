"""Misuse rules as an admission stage of the gateway: patterns in prompts or outputs, rate anomalies.

Rules are read from the database per provider and cached briefly. A match becomes a typed
:class:`MisuseEventRecord` (written with the request's usage record, or at once for prompt-time matches)
and, per the rule, flags, throttles or suspends the key or org. A suspending prompt rule also refuses the
request that matched, with :class:`SuspendedError` (a core ``ForbiddenError``): the gateway renders it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import select

from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ForbiddenError
from valuechain.core.ids import new_id
from valuechain.oversight.models import MisuseRule
from valuechain.oversight.records import MisuseEventRecord, Subject
from valuechain.oversight.service import apply_rule_actions

# Rules scan at most this much of a prompt or output: patterns are providers' regular expressions, and the
# scan runs on the request path (bounded input bounds the cost of a pathological pattern).
SCAN_CHARS = 100_000


class SuspendedError(ForbiddenError):
    """The request matched a suspending misuse rule, or its sender is suspended."""

    code = "suspended"


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
    """Compiled rules per provider; matches are recorded and acted on through the oversight service."""

    def __init__(self, db: Database, *, ttl_s: float = 5.0) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._rules: dict[str, tuple[float, list[CompiledRule]]] = {}
        self._rates: dict[str, tuple[int, int]] = {}

    def invalidate(self) -> None:
        self._rules.clear()

    def rules_of(self, provider_org_id: str) -> list[CompiledRule]:
        now = time.monotonic()
        cached = self._rules.get(provider_org_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._db.session() as session:
            rows = session.execute(
                select(MisuseRule).where(
                    MisuseRule.provider_org_id == provider_org_id, MisuseRule.enabled.is_(True)
                )
            ).scalars()
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

    def check_prompt(self, subject: Subject, text: str) -> None:
        """Rate and prompt-pattern rules before the backend call; a suspending match refuses the request."""
        rules = self.rules_of(subject.provider_org_id)
        if not rules:
            return
        events = []
        for rule in rules:
            if rule.kind == "rate" and rule.threshold_rpm and self._over_rate(rule, subject):
                events.append(_event(rule, subject, None, "rate"))
            elif _matches(rule, ("prompt", "both"), text):
                events.append(_event(rule, subject, None, "prompt"))
        if not events:
            return
        self.apply(events, recorded=False)
        suspending = [e for e in events if e.action == "suspend"]
        if suspending:
            raise SuspendedError(
                "request refused and access suspended by the provider's misuse rule "
                f"`{suspending[0].rule_name}`"
            )

    def _over_rate(self, rule: CompiledRule, subject: Subject) -> bool:
        who = subject.key_id if rule.scope == "key" else subject.org_id
        key, minute = f"{rule.id}:{who}", int(time.time() // 60)
        count_minute, count = self._rates.get(key, (minute, 0))
        count = count + 1 if count_minute == minute else 1
        self._rates[key] = (minute, count)
        return count == (rule.threshold_rpm or 0) + 1

    def check_output(self, subject: Subject, request_id: str, text: str | None) -> list[MisuseEventRecord]:
        """Output-pattern rules after the response; the events go into the request's metering batch."""
        if not text:
            return []
        return [
            _event(r, subject, request_id, "output")
            for r in self.rules_of(subject.provider_org_id)
            if _matches(r, ("output", "both"), text)
        ]

    def apply(self, events: list[MisuseEventRecord], *, recorded: bool) -> None:
        """Throttle or suspend per the events' rules; record the events too unless already ``recorded``."""
        apply_rule_actions(self._db, events, recorded=recorded)


def _matches(rule: CompiledRule, targets: tuple[str, ...], text: str) -> bool:
    """A pattern rule aimed at one of ``targets`` finds its pattern in (the scanned part of) ``text``."""
    return (
        rule.kind == "pattern"
        and rule.target in targets
        and rule.regex is not None
        and rule.regex.search(text[:SCAN_CHARS]) is not None
    )


def _event(rule: CompiledRule, subject: Subject, request_id: str | None, match: str) -> MisuseEventRecord:
    return MisuseEventRecord(
        id=new_id("mev"),
        created_at=utcnow(),
        provider_org_id=subject.provider_org_id,
        rule_id=rule.id,
        rule_name=rule.name,
        org_id=subject.org_id,
        key_id=subject.key_id,
        request_id=request_id,
        action=rule.action,
        scope=rule.scope,
        throttle_rpm=rule.throttle_rpm,
        match=match,
    )
