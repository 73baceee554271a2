"""Version lifecycle and maintenance (issue 11): moves that notify, and service levels measured.

A deprecation or retirement notifies every organisation entitled to an offer of the model or having
downloaded its files (one notification per organisation × kind × version, so a repeated move notifies
nobody twice), and queues a delivery for each of their webhooks; ``webhooks.deliver_pending`` sends them
after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.channels.models import Delivery, Notification, Webhook
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.core.ids import new_id
from valuechain.core.schema import InputModel
from valuechain.gateway.usage import offer_health
from valuechain.hub.summary import downloader_org_ids
from valuechain.market.service import entitled_org_ids
from valuechain.registry import lifecycle
from valuechain.registry.service import get_offer, offer_ids_of_model, set_offer_terms

NOTIFYING = ("deprecated", "retired")


@dataclass(frozen=True, slots=True)
class StageChange:
    """A version's move and whom it notified."""

    before: lifecycle.VersionLifecycle
    after: lifecycle.VersionLifecycle
    notified: list[str]


def move_version(
    session: Session,
    ref: str,
    stage: str,
    *,
    principal: Principal,
    sunset_at: datetime | None = None,
    successor: str | None = None,
    now: datetime | None = None,
) -> StageChange:
    """Move a version along its lifecycle (the owner) and notify whom a deprecation or retirement
    concerns."""
    before, after = lifecycle.set_stage(
        session, ref, stage, principal=principal, sunset_at=sunset_at, successor=successor, now=now
    )
    notified: list[str] = []
    if after.stage in NOTIFYING:
        orgs = _concerned_orgs(session, after.model_id)
        notified = _notify(session, orgs, after, now=now or utcnow())
    return StageChange(before=before, after=after, notified=notified)


def _concerned_orgs(session: Session, model_id: str) -> set[str]:
    offer_ids = offer_ids_of_model(session, model_id)
    entitled = set().union(*entitled_org_ids(session, offer_ids).values())
    return entitled | downloader_org_ids(session, model_id)


def _message(v: lifecycle.VersionLifecycle) -> str:
    successor = f" Its successor is {v.successor}." if v.successor else ""
    if v.stage == "retired":
        return f"{v.ref} is retired: /v1 answers 404 for it.{successor}"
    sunset = v.sunset_at.date().isoformat() if v.sunset_at else "a date to be announced"
    return f"{v.ref} is deprecated and will be retired on {sunset}.{successor}"


def _notify(session: Session, orgs: set[str], v: lifecycle.VersionLifecycle, *, now: datetime) -> list[str]:
    kind = f"version.{v.stage}"
    already = set(
        session.scalars(
            select(Notification.org_id).where(Notification.kind == kind, Notification.subject == v.ref)
        )
    )
    fresh = sorted(orgs - already)
    if not fresh:
        return []
    payload = {
        "kind": kind,
        "model": v.model,
        "version": v.label,
        "stage": v.stage,
        "deprecated_at": v.deprecated_at.isoformat() if v.deprecated_at else None,
        "sunset_at": v.sunset_at.isoformat() if v.sunset_at else None,
        "successor": v.successor,
    }
    hooks = session.execute(
        select(Webhook.id, Webhook.org_id).where(Webhook.org_id.in_(fresh), Webhook.revoked_at.is_(None))
    ).all()
    ids: dict[str, str] = {}
    for org_id in fresh:
        ids[org_id] = new_id("ntf")
        session.add(
            Notification(
                id=ids[org_id],
                org_id=org_id,
                kind=kind,
                subject=v.ref,
                message=_message(v),
                payload=payload,
                created_at=now,
            )
        )
    session.flush()
    for hook_id, org_id in hooks:
        session.add(
            Delivery(
                id=new_id("dly"),
                webhook_id=hook_id,
                notification_id=ids[org_id],
                status="pending",
                attempts=0,
            )
        )
    slugs = slugs_for_ids(session, fresh)
    return sorted(slugs.get(o, o) for o in fresh)


class SupportTerms(InputModel):
    """What a maintenance agreement promises: support response time, patch cadence and service levels."""

    response_time_hours: int = Field(
        ge=1, le=24 * 30, description="First answer to a support request within."
    )
    patch_cadence_days: int = Field(ge=1, le=366, description="Security and bug-fix releases at least every.")
    uptime_target_pct: float = Field(
        default=99.5, ge=0, le=100, description="Share of requests answered without a server error."
    )
    latency_p95_ms: float = Field(default=2000, gt=0, description="95th percentile latency promised, in ms.")


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """An offer's support terms beside what its traffic measured over a window."""

    offer_id: str
    terms: SupportTerms | None
    since: datetime
    requests: int
    server_errors: int
    uptime_pct: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None

    @property
    def meets_uptime(self) -> bool | None:
        if self.terms is None or self.uptime_pct is None:
            return None
        return self.uptime_pct >= self.terms.uptime_target_pct

    @property
    def meets_latency(self) -> bool | None:
        if self.terms is None or self.latency_p95_ms is None:
            return None
        return self.latency_p95_ms <= self.terms.latency_p95_ms


def set_support_terms(session: Session, offer_id: str, terms: SupportTerms, *, principal: Principal) -> None:
    """The provider states the support terms of its ``api`` offer (kept in the offer's ``support`` terms)."""
    set_offer_terms(
        session, offer_id, "api", terms.model_dump(mode="json"), principal=principal, section="support"
    )


def service_level(
    session: Session, offer_id: str, *, principal: Principal, days: int = 30, now: datetime | None = None
) -> ServiceLevel:
    """Uptime and latency of an offer measured from its usage records, beside its support terms (the
    provider, and organisations that may see the offer)."""
    if not 1 <= days <= 366:
        raise ValidationError("days must be between 1 and 366")
    offer = get_offer(session, offer_id, principal=principal)  # hidden answers as missing
    authorize(principal, Action.usage_read, Resource("offer", offer_id, offer.by_org_id, is_visible=True))
    since = (now or utcnow()) - timedelta(days=days)
    requests, errors, latencies = offer_health(session, offer_id, since=since)
    raw = (offer.terms or {}).get("support")
    return ServiceLevel(
        offer_id=offer_id,
        terms=SupportTerms.model_validate(raw) if raw else None,
        since=since,
        requests=requests,
        server_errors=errors,
        uptime_pct=round(100.0 * (requests - errors) / requests, 3) if requests else None,
        latency_p50_ms=_percentile(latencies, 0.50),
        latency_p95_ms=_percentile(latencies, 0.95),
    )


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)
