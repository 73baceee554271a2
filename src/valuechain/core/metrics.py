"""Prometheus metrics of one process (issue 14): every family is declared here, in one registry.

Each replica is its own process and is scraped on its own (``/metrics`` for an operator's key, or an
unauthenticated port of its own, ``VALUECHAIN_METRICS_PORT``); ``valuechain serve --workers N`` would give
each worker process its own counters, so run one worker per replica and more replicas instead.

Request families are labelled by surface (``v1``, ``hub``, ``api``, ``other``) and route *template* (never
the raw path: bounded cardinality); tokens and cost by model, as committed by the metering writer.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

REQUESTS = Counter(
    "valuechain_http_requests",
    "HTTP requests answered, by surface, route template, method and status.",
    ["surface", "route", "method", "status"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "valuechain_http_errors",
    "HTTP requests answered with an error status (4xx: client, 5xx: server), by surface and route template.",
    ["surface", "route", "kind"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "valuechain_http_request_duration_seconds",
    "Time from the request to the last byte of its answer, by surface and route template.",
    ["surface", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
TOKENS = Counter(
    "valuechain_tokens",
    "Tokens of committed /v1 usage records, by model and kind (prompt, completion).",
    ["model", "kind"],
    registry=REGISTRY,
)
COST = Counter(
    "valuechain_cost_micro",
    "Cost of committed /v1 usage records in micro-units of their currency, by model.",
    ["model", "currency"],
    registry=REGISTRY,
)
USAGE = Counter(
    "valuechain_usage_records",
    "Committed /v1 usage records, by model and status.",
    ["model", "status"],
    registry=REGISTRY,
)
REPLAYED = Counter(
    "valuechain_journal_replayed_entries",
    "Metering entries replayed from journal segments of stopped processes.",
    registry=REGISTRY,
)
BLOB_ERRORS = Counter(
    "valuechain_blob_store_errors",
    "Failed blob-store calls, by store and operation.",
    ["store", "operation"],
    registry=REGISTRY,
)
RECORDER_QUEUE = Gauge(
    "valuechain_recorder_queue_depth",
    "Metering entries waiting for the database writer of this process.",
    registry=REGISTRY,
)
JOURNAL_PENDING = Gauge(
    "valuechain_journal_pending_entries",
    "Metering entries journaled by this process and not yet committed.",
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "valuechain_gateway_in_flight",
    "/v1 requests admitted by this process and not yet settled.",
    registry=REGISTRY,
)
HOLDS = Gauge(
    "valuechain_holds_outstanding",
    "Balance and allowance holds of this process not yet settled.",
    registry=REGISTRY,
)


def watch(gauge: Gauge, read: Callable[[], float]) -> None:
    """Read ``gauge`` from ``read`` at each scrape (the latest serving state of the process wins)."""
    gauge.set_function(read)


def exposition() -> tuple[bytes, str]:
    """The text exposition of every family, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
