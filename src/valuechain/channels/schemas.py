"""Pydantic I/O of the channels routes (issue 11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from valuechain.core.schema import InputModel

Stage = Literal["preview", "active", "legacy", "deprecated", "retired"]


class StageSet(InputModel):
    """Move a version along its lifecycle."""

    stage: Stage
    sunset_at: AwareDatetime | None = Field(
        default=None, description="Retirement date (needed to deprecate)."
    )
    successor: str | None = Field(
        default=None, description="The version that replaces it, <org>/<name>@<label>."
    )


class LifecyclePublic(BaseModel):
    version: str = Field(description="<org>/<name>@<label>.")
    stage: Stage
    stage_at: datetime | None
    deprecated_at: datetime | None
    sunset_at: datetime | None
    successor: str | None


class StageChangePublic(BaseModel):
    before: LifecyclePublic
    after: LifecyclePublic
    notified: list[str] = Field(description="Organisations notified (slugs).")


class NotificationPublic(BaseModel):
    id: str
    kind: str
    subject: str
    message: str
    payload: dict[str, Any]
    created_at: datetime


class WebhookCreate(InputModel):
    url: str = Field(max_length=2000, description="Absolute http(s) URL notifications are POSTed to.")


class WebhookPublic(BaseModel):
    id: str
    url: str
    created_at: datetime
    delivered: int
    failed: int
    secret: str | None = Field(
        default=None, description="Signing secret (HMAC-SHA256); shown once, when the webhook is created."
    )


class ServiceLevelPublic(BaseModel):
    offer: str
    terms: dict[str, Any] | None = Field(description="The support terms, null when none are stated.")
    since: datetime
    requests: int
    server_errors: int
    uptime_pct: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    meets_uptime: bool | None
    meets_latency: bool | None


class ResellerPublic(BaseModel):
    agreement: str
    provider: str
    reseller: str
    model: str
    wholesale_input_per_mtok: int
    wholesale_output_per_mtok: int
    max_markup_pct: int
    max_customers: int
    brand_rules: dict[str, Any]
    expires_at: datetime | None
    revoked: bool


class WhiteLabelPublic(BaseModel):
    offer: str
    model_name: str
    brand: str
    upstream: str
    input_per_mtok: int
    output_per_mtok: int
    markup_pct: int


class CustomerAdd(InputModel):
    customer: str = Field(description="The customer organisation (slug).")
    issue_key: bool = Field(default=False, description="Also issue the customer an inference key.")


class CustomerPublic(BaseModel):
    offer: str
    customer: str
    key_id: str | None = None
    key: str | None = Field(default=None, description="The issued key's secret; shown once.")


class BrandPublic(BaseModel):
    org: str
    host: str
    display_name: str
    accent: str
