"""The fairly shared worker: organisations take turns, one work item each per round."""

from __future__ import annotations

import threading

import pytest

from valuechain.runtime.fair import FairWorker, tenant


def test_tenants_take_turns_and_keep_their_own_order() -> None:
    worker = FairWorker("test")
    gate, started, order = threading.Event(), threading.Event(), []

    def item(name: str) -> str:
        if name == "a0":
            started.set()
            gate.wait(5)
        order.append(name)
        return name

    first = worker.submit("a", item, "a0")  # holds the thread while the others queue
    assert started.wait(5)
    rest = [worker.submit("a", item, f"a{i}") for i in (1, 2, 3)]
    rest.append(worker.submit("b", item, "b0"))
    gate.set()
    assert [f.result(5) for f in [first, *rest]] == ["a0", "a1", "a2", "a3", "b0"]
    assert order == ["a0", "a1", "b0", "a2", "a3"]
    worker.shutdown()


def test_errors_reach_the_caller_and_shutdown_cancels_what_is_queued() -> None:
    worker = FairWorker("test")
    gate = threading.Event()

    def boom() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        worker.submit("a", boom).result(5)
    started = threading.Event()

    def hold() -> bool:
        started.set()
        return gate.wait(5)

    running = worker.submit("a", hold)
    assert started.wait(5)
    queued = worker.submit("b", lambda: None)
    threading.Timer(0.05, gate.set).start()
    worker.shutdown()
    assert running.result(5) is True and queued.cancelled()
    with pytest.raises(RuntimeError):
        worker.submit("a", lambda: None)


async def test_run_uses_the_tenant_of_the_calling_task() -> None:
    worker = FairWorker("test")
    tenant.set("org_x")
    assert await worker.run(lambda: worker.pending("org_x")) == 0
    worker.shutdown()
