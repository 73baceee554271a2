"""Typed records of one /v1 request between admission, serving and metering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from valuechain.gateway.access import Caller, Route
from valuechain.market.ledger import UsageCharge
from valuechain.market.limits import Counter
from valuechain.oversight.records import MisuseEventRecord


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """What admission needs to know of a parsed /v1 request."""

    secret: str
    model: str
    endpoint: str
    stream: bool
    prompt_estimate: int
    max_output: int | None
    choices: int
    prompt_text: str


@dataclass(slots=True)
class Ticket:
    """An admitted request, carried to settlement."""

    request_id: str
    caller: Caller
    route: Route
    endpoint: str
    stream: bool
    prompt_estimate: int
    max_output: int
    token_estimate: int
    counters: list[Counter]
    hold: int
    started: float
    allowance_hold: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    settled: bool = False


@dataclass(slots=True)
class Outcome:
    """What happened: status, usage and (for full logging) the bodies."""

    status: int = 200
    error_code: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    request_body: Any = None
    response_text: str | None = None


@dataclass(frozen=True, slots=True)
class UsageRow:
    """The ``gateway_usage`` row of one request."""

    id: str
    created_at: datetime
    org_id: str
    key_id: str | None
    provider_org_id: str
    offer_id: str
    version_id: str
    model: str
    endpoint: str
    stream: bool
    status: int
    error_code: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cost: int
    currency: str


@dataclass(frozen=True, slots=True)
class RequestLogRow:
    """The ``gateway_request_logs`` row of one request, as the offer's logging policy allows."""

    id: str
    created_at: datetime
    expires_at: datetime
    org_id: str
    provider_org_id: str
    key_id: str | None
    offer_id: str
    mode: str
    meta: dict[str, Any]
    request_body: Any = None
    response_body: Any = None


@dataclass(frozen=True, slots=True)
class Entry:
    """Everything one request writes, committed together: each row by its table's owner."""

    usage: UsageRow
    charge: UsageCharge | None = None
    request_log: RequestLogRow | None = None
    events: list[MisuseEventRecord] = field(default_factory=list)
