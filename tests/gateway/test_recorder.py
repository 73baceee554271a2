"""Metering after the response: commits follow the answer, failures are retried without losing or
blocking entries, a wallet reloaded meanwhile counts pending charges, and a new process replays a dead
one's journal exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

from sqlalchemy import func, select

from tests.gateway.conftest import MODEL, World, _org_id
from tests.gateway.helpers import set_wallet
from tests.gateway.test_journal import crash
from valuechain.gateway.errors import GatewayError
from valuechain.gateway.journal import Journal
from valuechain.gateway.models import UsageRecord
from valuechain.gateway.recorder import UsageRecorder
from valuechain.gateway.records import AdmissionRequest, Outcome, Ticket
from valuechain.market import ledger

ONE = AdmissionRequest(
    secret="",
    model=MODEL,
    endpoint="chat",
    stream=False,
    prompt_estimate=37,
    max_output=16,
    choices=1,
    prompt_text="hello",
)
COST = 37 + 2 * 16  # micro-units at 1 and 2 per token (default_terms)


class Gate:
    """Holds the writer thread before each commit until opened; optionally fails commits."""

    def __init__(self, recorder: UsageRecorder) -> None:
        self.open = threading.Event()
        self.fail: set[str] = set()  # usage ids whose batches fail
        self.failures = 0
        self._write = recorder._write

        def write(statements: Any) -> None:
            self.open.wait(timeout=30)
            values = (v for _, params in statements if isinstance(params, tuple) for v in params)
            if any(isinstance(v, str) and v in self.fail for v in values):  # a usage id
                self.failures += 1
                raise RuntimeError("commit refused by the test")
            self._write(statements)

        recorder._write = write  # type: ignore[method-assign]


async def admit_and_settle(world: World) -> tuple[Ticket, asyncio.Future[None]]:
    admission = world.gateway.admission
    ticket = await admission.admit(dataclasses.replace(ONE, secret=world.dev_key))
    committed = await admission.settle(ticket, Outcome(prompt_tokens=37, completion_tokens=16))
    assert committed is not None
    return ticket, committed


def usage_ids(world: World) -> list[str]:
    with world.db.session() as session:
        return list(session.execute(select(UsageRecord.id)).scalars())


async def test_settle_returns_before_the_commit(world: World) -> None:
    gate = Gate(world.gateway.admission.recorder)
    ticket, committed = await admit_and_settle(world)
    assert not committed.done() and usage_ids(world) == []
    assert world.gateway.admission.recorder.journal.pending == 1  # on disk before any answer
    gate.open.set()
    await committed
    assert usage_ids(world) == [ticket.request_id]
    assert world.gateway.admission.recorder.journal.pending == 0


async def test_a_reloaded_wallet_counts_pending_charges(world: World) -> None:
    set_wallet(world, 3 * COST)
    org = _org_id(world.db, "devco")
    admission = world.gateway.admission
    gate = Gate(admission.recorder)
    admitted = []
    for _ in range(6):
        await admission.reservations.invalidate(org)  # force a reload from the database each time
        try:
            admitted.append(await admit_and_settle(world))
        except GatewayError as exc:
            assert exc.code == "insufficient_quota"
    assert len(admitted) == 3  # the database still shows 3 × COST: the pending charges are subtracted
    gate.open.set()
    await admission.recorder.flush()
    with world.db.session() as session:
        assert ledger.wallet_balance(session, org) == 0
        assert ledger.verify(session).problems == []


async def test_a_failing_entry_is_retried_and_holds_up_no_other(world: World) -> None:
    recorder = world.gateway.admission.recorder
    gate = Gate(recorder)
    settled = [await admit_and_settle(world) for _ in range(3)]
    bad = settled[1][0].request_id
    gate.fail.add(bad)
    gate.open.set()
    await asyncio.gather(settled[0][1], settled[2][1])  # the others commit
    assert sorted(usage_ids(world)) == sorted([settled[0][0].request_id, settled[2][0].request_id])
    for _ in range(200):  # the bad one failed in its batch and again alone, and is retried
        if gate.failures >= 2:
            break
        await asyncio.sleep(0.05)
    assert gate.failures >= 2
    assert not settled[1][1].done() and recorder.journal.pending == 1
    gate.fail.clear()  # the database accepts it again
    await asyncio.wait_for(settled[1][1], 10)
    assert bad in usage_ids(world) and recorder.journal.pending == 0


async def test_a_request_answers_while_its_commit_is_retried(world: World) -> None:
    gate = Gate(world.gateway.admission.recorder)
    gate.open.set()
    calls = 0
    write = world.gateway.admission.recorder._write

    def flaky(statements: Any) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError("database unavailable")
        write(statements)

    world.gateway.admission.recorder._write = flaky  # type: ignore[method-assign]
    async with world.http() as http:
        r = await http.post(
            "/v1/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
            headers={"Authorization": f"Bearer {world.dev_key}"},
        )
        assert r.status_code == 200
        report = await http.get("/api/v1/usage", headers={"Authorization": f"Bearer {world.dev_key}"})
    assert calls == 3
    assert usage_ids(world) == [r.headers["x-request-id"]]
    assert sum(row["requests"] for row in report.json()) == 1


async def test_a_new_process_replays_a_dead_ones_journal_once(world: World, sqlite_only: None) -> None:
    recorder = world.gateway.admission.recorder
    gate = Gate(recorder)
    settled = [await admit_and_settle(world) for _ in range(4)]
    gate.fail = {t.request_id for t, _ in settled[2:]}  # the process dies before these two commit
    gate.open.set()
    await asyncio.gather(*(c for _, c in settled[:2]))
    assert recorder._task is not None
    recorder._task.cancel()
    for _, committed in settled[2:]:
        committed.cancel()  # nobody waits for the dead process any more
    directory = recorder.journal.directory
    crash(recorder.journal)
    recorder.journal = Journal(directory / "unused")  # the dead process's writer is gone with it

    successor = UsageRecorder(world.db, Journal(directory))
    assert await successor.recover() == 2  # the two lines already in the database are skipped
    await successor.flush()
    ids = usage_ids(world)
    assert sorted(ids) == sorted(t.request_id for t, _ in settled) and len(ids) == len(set(ids))
    with world.db.session() as session:
        assert ledger.verify(session).problems == []
        assert session.execute(select(func.count()).select_from(UsageRecord)).scalar_one() == 4
    await successor.close()
    assert list(directory.glob("settle-*.jsonl")) == []


async def test_a_live_sibling_replays_a_killed_ones_journal(world: World, sqlite_only: None) -> None:
    """Replicas sharing a journal directory: a survivor commits a killed one's entries, no restart needed."""
    recorder = world.gateway.admission.recorder
    directory = recorder.journal.directory
    sibling = UsageRecorder(world.db, Journal(directory))  # alive before the other one dies
    sibling.start_scan(every_s=0.05)
    gate = Gate(recorder)  # the writer never commits: the process is killed first
    settled = [await admit_and_settle(world) for _ in range(3)]
    assert recorder._task is not None
    recorder._task.cancel()
    for _, committed in settled:
        committed.cancel()
    crash(recorder.journal)
    recorder.journal = Journal(directory / "unused")
    gate.open.set()
    for _ in range(200):
        await asyncio.sleep(0.05)
        if len(usage_ids(world)) == 3:
            break
    await sibling.flush()
    assert sorted(usage_ids(world)) == sorted(t.request_id for t, _ in settled)
    with world.db.session() as session:
        assert ledger.verify(session).problems == []
    await sibling.close()
    assert list(directory.glob("settle-*.jsonl")) == []
