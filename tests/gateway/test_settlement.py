"""Settlement on every exit path (issue 17, part 9): a client that really disconnects, a journal that fails,
and holds settled to the real cost, never to the held maximum."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import orjson
import pytest
from sqlalchemy import select

from tests.gateway.conftest import MODEL, World, _org_id
from tests.gateway.helpers import set_wallet
from valuechain.gateway.models import UsageRecord


def _usage_rows(world: World, org: str) -> list[Any]:
    with world.db.session() as session:
        return list(
            session.execute(
                select(UsageRecord.status, UsageRecord.completion_tokens, UsageRecord.cost).where(
                    UsageRecord.org_id == org
                )
            ).all()
        )


async def _wait_for_rows(world: World, org: str, count: int = 1) -> list[Any]:
    for _ in range(200):
        rows = _usage_rows(world, org)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.02)
    return _usage_rows(world, org)


async def test_disconnect_mid_stream_bills_what_was_generated(world: World) -> None:
    """The ASGI server delivers ``http.disconnect`` after a few chunks (as uvicorn does when the socket
    closes): the stream stops, the backend's stream is closed, the tokens sent are billed, no hold stays."""
    world.backend.words = tuple(f" w{i}" for i in range(50))
    world.backend.delay_s = 0.01
    org = _org_id(world.db, "devco")
    body = orjson.dumps(
        {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": 60, "stream": True}
    )
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {world.dev_key}".encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
        "state": {},
    }
    chunks_sent = 0
    gone = asyncio.Event()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal chunks_sent
        if message["type"] == "http.response.body" and message.get("body"):
            chunks_sent += 1
            if chunks_sent == 5:
                gone.set()

    await asyncio.wait_for(world.app(scope, receive, send), 10)
    assert 5 <= chunks_sent < 20  # the stream stopped soon after the disconnect, long before its 50 words
    assert world.backend.streams_closed == 1
    (row,) = await _wait_for_rows(world, org)
    status, completion_tokens, cost = row
    assert status == 499
    assert 1 <= completion_tokens < 50 and cost > 0
    assert await world.gateway.admission.reservations.held(org) == 0


class _BrokenJournal(Exception):
    pass


async def test_a_failing_journal_leaves_no_hold_behind(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recording the usage fails (the journal append raises something unforeseen): the request fails, but
    its hold and its counters are released all the same."""
    org = _org_id(world.db, "devco")

    def append(entry: object) -> object:
        raise _BrokenJournal("journal broken")

    monkeypatch.setattr(world.gateway.admission.recorder.journal, "append", append)
    with pytest.raises((openai.InternalServerError, _BrokenJournal)):
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
        )
    assert await world.gateway.admission.reservations.held(org) == 0
    assert world.gateway.admission.in_flight == 0


async def test_a_journal_without_disk_commits_before_answering(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's disk fails (OSError): the request is billed by committing before the answer."""
    org = _org_id(world.db, "devco")

    def append(entry: object) -> object:
        raise OSError("no space left on device")

    monkeypatch.setattr(world.gateway.admission.recorder.journal, "append", append)
    await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
    )
    rows = _usage_rows(world, org)  # committed before the answer: no waiting
    assert [r[0] for r in rows] == [200] and rows[0][2] > 0
    assert await world.gateway.admission.reservations.held(org) == 0


async def test_holds_settle_to_the_real_cost_not_the_held_maximum(world: World) -> None:
    """A wallet holding two maximum costs serves many small requests: each frees its hold down to what it
    really cost (settling to the hold would refuse the third request)."""
    org = _org_id(world.db, "devco")
    plan = world.gateway.admission
    max_cost = -(-(37 * 1_000_000 + 16 * 2_000_000) // 1_000_000)  # see test_admission
    set_wallet(world, 2 * max_cost)
    await plan.reservations.invalidate(org)
    for _ in range(4):
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hello there"}], max_tokens=16
        )
    rows = await _wait_for_rows(world, org, 4)
    assert len(rows) == 4 and all(0 < r[2] < max_cost // 2 for r in rows)
    assert await plan.reservations.held(org) == 0
