"""``/metrics`` is scraped and its counters move: requests, latency and errors per surface and route
template, tokens and cost per model, the gauges of the metering queue and holds; operators only."""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from tests.conftest import make_key
from tests.gateway.conftest import MODEL, World
from valuechain.core.logs import JsonFormatter
from valuechain.core.observe import REQUEST_ID
from valuechain.gateway.models import UsageRecord

CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(world: World, key: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with world.http() as http:
        r = await http.get("/metrics", headers={"authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


async def test_counters_move_with_traffic(world: World) -> None:
    operator = make_key(world.db, "acme", "admin", operator=True)
    before = await scrape(world, operator)
    async with world.http() as http:
        ok = await http.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {world.dev_key}"}
        )
        bad = await http.post("/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer vc_nope"})
        await http.get("/api/v1/models", headers={"authorization": f"Bearer {world.dev_key}"})
        await http.get("/hub/api/models/acme/none")
    assert ok.status_code == 200 and bad.status_code == 401
    await world.gateway.admission.recorder.flush()
    after = await scrape(world, operator)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    chat = {"surface": "v1", "route": "/v1/chat/completions"}
    assert moved("valuechain_http_requests_total", **chat, method="POST", status="200") == 1
    assert moved("valuechain_http_requests_total", **chat, method="POST", status="401") == 1
    assert moved("valuechain_http_errors_total", **chat, kind="client") == 1
    assert moved("valuechain_http_request_duration_seconds_count", **chat) == 2
    api = {"surface": "api", "route": "/api/v1/models", "method": "GET", "status": "200"}
    assert moved("valuechain_http_requests_total", **api) == 1
    hub = {"surface": "hub", "route": "/hub/api/models/{namespace}/{name}", "method": "GET", "status": "404"}
    assert moved("valuechain_http_requests_total", **hub) == 1
    usage = ok.json()["usage"]
    assert moved("valuechain_tokens_total", model=MODEL, kind="prompt") == usage["prompt_tokens"]
    assert moved("valuechain_tokens_total", model=MODEL, kind="completion") == usage["completion_tokens"]
    assert moved("valuechain_usage_records_total", model=MODEL, status="200") == 1
    with world.db.session() as session:
        cost = session.scalar(select(UsageRecord.cost).where(UsageRecord.id == ok.headers["x-request-id"]))
    assert cost and moved("valuechain_cost_micro_total", model=MODEL, currency="EUR") == cost
    for gauge in ("valuechain_recorder_queue_depth", "valuechain_journal_pending_entries"):
        assert value(after, gauge) == 0
    assert value(after, "valuechain_holds_outstanding") == 0
    assert value(after, "valuechain_gateway_in_flight") == 0


async def test_metrics_are_for_operators_only(world: World) -> None:
    async with world.http() as http:
        assert (await http.get("/metrics")).status_code == 401
        admin = await http.get("/metrics", headers={"authorization": f"Bearer {world.provider_key}"})
        assert admin.status_code == 403


async def test_the_request_id_is_the_usage_records_id_and_reaches_the_backend(world: World) -> None:
    async with world.http() as http:
        r = await http.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {world.dev_key}"}
        )
        hub = await http.get("/hub/api/models/acme/none")
    request_id = r.headers["x-request-id"]
    assert request_id.startswith("req_") and hub.headers["x-request-id"].startswith("req_")
    assert hub.headers.get_list("x-request-id") == [hub.headers["x-request-id"]]  # one header, not two
    await world.gateway.admission.recorder.flush()
    with world.db.session() as session:
        assert session.get(UsageRecord, request_id) is not None
    assert world.backend.request_ids[-1] == request_id


def test_json_log_lines_carry_the_request_id() -> None:
    import orjson

    record = logging.LogRecord("valuechain.gateway", logging.WARNING, __file__, 1, "x=%d", (3,), None)
    token = REQUEST_ID.set("req_test")
    try:
        line = orjson.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "x=3" and line["level"] == "warning" and line["request_id"] == "req_test"
    assert line["logger"] == "valuechain.gateway" and line["time"].endswith("+00:00")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_config_is_a_valid_dict_config(fmt: str) -> None:
    import logging.config

    from valuechain.core.logs import log_config

    logging.config.dictConfig(log_config(level="info", fmt=fmt))
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler.formatter, JsonFormatter) == (fmt == "json")
