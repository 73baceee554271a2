"""Records of the channels services → the public schemas of its routes."""

from __future__ import annotations

from valuechain.channels import schemas as s
from valuechain.channels.brands import BrandRecord
from valuechain.channels.lifecycle import ServiceLevel, StageChange
from valuechain.channels.notices import NotificationRecord, WebhookRecord
from valuechain.channels.whitelabel import CustomerRecord, ResellerRecord, WhiteLabelRecord
from valuechain.registry.lifecycle import VersionLifecycle


def version(v: VersionLifecycle) -> s.LifecyclePublic:
    return s.LifecyclePublic(
        version=v.ref,
        stage=v.stage,  # type: ignore[arg-type]
        stage_at=v.stage_at,
        deprecated_at=v.deprecated_at,
        sunset_at=v.sunset_at,
        successor=v.successor,
    )


def stage_change(c: StageChange) -> s.StageChangePublic:
    return s.StageChangePublic(before=version(c.before), after=version(c.after), notified=c.notified)


def notification(n: NotificationRecord) -> s.NotificationPublic:
    return s.NotificationPublic(
        id=n.id, kind=n.kind, subject=n.subject, message=n.message, payload=n.payload, created_at=n.created_at
    )


def webhook(w: WebhookRecord) -> s.WebhookPublic:
    return s.WebhookPublic(
        id=w.id, url=w.url, created_at=w.created_at, delivered=w.delivered, failed=w.failed, secret=w.secret
    )


def service_level(v: ServiceLevel) -> s.ServiceLevelPublic:
    return s.ServiceLevelPublic(
        offer=v.offer_id,
        terms=v.terms.model_dump(mode="json") if v.terms else None,
        since=v.since,
        requests=v.requests,
        server_errors=v.server_errors,
        uptime_pct=v.uptime_pct,
        latency_p50_ms=v.latency_p50_ms,
        latency_p95_ms=v.latency_p95_ms,
        meets_uptime=v.meets_uptime,
        meets_latency=v.meets_latency,
    )


def reseller(r: ResellerRecord) -> s.ResellerPublic:
    return s.ResellerPublic(
        agreement=r.agreement_id,
        provider=r.provider,
        reseller=r.reseller,
        model=r.model,
        wholesale_input_per_mtok=r.wholesale_input_per_mtok,
        wholesale_output_per_mtok=r.wholesale_output_per_mtok,
        max_markup_pct=r.max_markup_pct,
        max_customers=r.max_customers,
        brand_rules=r.brand_rules,
        expires_at=r.expires_at,
        revoked=r.revoked,
    )


def white_label(w: WhiteLabelRecord) -> s.WhiteLabelPublic:
    return s.WhiteLabelPublic(
        offer=w.offer_id,
        model_name=w.model_name,
        brand=w.brand,
        upstream=w.upstream,
        input_per_mtok=w.input_per_mtok,
        output_per_mtok=w.output_per_mtok,
        markup_pct=w.markup_pct,
    )


def customer(c: CustomerRecord) -> s.CustomerPublic:
    return s.CustomerPublic(offer=c.offer_id, customer=c.customer, key_id=c.key_id, key=c.secret)


def brand(b: BrandRecord) -> s.BrandPublic:
    return s.BrandPublic(org=b.org_slug, host=b.host, display_name=b.display_name, accent=b.accent)
