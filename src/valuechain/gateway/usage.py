"""Usage reports: requests, tokens, cost, errors and latency percentiles by day × model × org × key.

Providers see the traffic of their own offers; downstream orgs see their own usage; operators see all.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.principal import Principal
from valuechain.core.clock import utcnow
from valuechain.gateway.models import UsageRecord

GROUPS = ("day", "model", "org", "key")


def usage_report(
    session: Session,
    *,
    principal: Principal,
    view: str = "consumer",
    since: date | None = None,
    until: date | None = None,
    group_by: tuple[str, ...] = GROUPS,
) -> list[dict[str, Any]]:
    """Rows of aggregated usage; ``view`` is ``consumer`` (own calls) or ``provider`` (own offers)."""
    authorize(principal, Action.usage_read)
    until = until or utcnow().date()
    since = since or until - timedelta(days=30)
    start = datetime.combine(since, time.min).astimezone()
    end = datetime.combine(until + timedelta(days=1), time.min).astimezone()
    query = select(
        UsageRecord.created_at,
        UsageRecord.model,
        UsageRecord.org_id,
        UsageRecord.key_id,
        UsageRecord.status,
        UsageRecord.prompt_tokens,
        UsageRecord.completion_tokens,
        UsageRecord.cost,
        UsageRecord.latency_ms,
        UsageRecord.currency,
    ).where(UsageRecord.created_at >= start, UsageRecord.created_at < end)
    if not principal.is_operator:
        column = UsageRecord.provider_org_id if view == "provider" else UsageRecord.org_id
        query = query.where(column == principal.org_id)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    latencies: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for row in session.execute(query):
        values = {
            "day": row.created_at.date().isoformat(),
            "model": row.model,
            "org": row.org_id,
            "key": row.key_id,
        }
        gk = tuple(values[g] for g in group_by)
        agg = groups.setdefault(
            gk,
            {
                **{g: values[g] for g in group_by},
                "requests": 0,
                "errors": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost": 0,
                "currency": row.currency,
            },
        )
        agg["requests"] += 1
        agg["errors"] += int(row.status >= 400)
        agg["prompt_tokens"] += row.prompt_tokens
        agg["completion_tokens"] += row.completion_tokens
        agg["cost"] += row.cost
        latencies[gk].append(row.latency_ms)
    for gk, agg in groups.items():
        lat = sorted(latencies[gk])
        agg["latency_ms_p50"] = _pct(lat, 0.50)
        agg["latency_ms_p95"] = _pct(lat, 0.95)
        agg["latency_ms_p99"] = _pct(lat, 0.99)
    return [groups[k] for k in sorted(groups, key=lambda k: tuple(str(x) for x in k))]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def offer_health(session: Session, offer_id: str, *, since: datetime) -> tuple[int, int, list[float]]:
    """(requests, server errors, sorted latencies in ms) of an offer since ``since`` (issue 11: the
    uptime and latency a maintenance listing is measured against); no authorisation: callers decide."""
    rows = session.execute(
        select(UsageRecord.status, UsageRecord.latency_ms).where(
            UsageRecord.offer_id == offer_id, UsageRecord.created_at >= since
        )
    ).all()
    errors = sum(1 for status, _ in rows if status >= 500)
    return len(rows), errors, sorted(float(latency) for _, latency in rows)
