"""A worker thread shared fairly (issue 17): work items queue per tenant (the calling organisation) and the
thread takes them in turns, one item per tenant per round, first come first served within a tenant.

Long work is submitted as several short items (an embedding request in slices of inputs, a completion
choice by choice), so a tenant with a big request waits its turn between slices instead of holding the
thread: another tenant's short request waits for at most one slice.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

#: The organisation on whose behalf the current task calls a backend (set by the gateway at admission).
tenant: ContextVar[str] = ContextVar("valuechain_tenant", default="")

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class FairWorker:
    """One thread running submitted callables, round robin over tenants."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queues: dict[str, deque[_Item]] = {}
        self._turns: deque[str] = deque()  # tenants with queued work, in the order they get the thread
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, who: str, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(*args)`` for tenant ``who``; the future holds its result."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"worker {self._name} is shut down")
            queue = self._queues.get(who)
            if queue is None:
                queue = self._queues[who] = deque()
                self._turns.append(who)
            queue.append((future, fn, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._lock.notify()
        return future

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the worker, in the current tenant's turn."""
        return await asyncio.wrap_future(self.submit(tenant.get(), fn, *args))

    def _next(self) -> _Item | None:
        with self._lock:
            while not self._turns and not self._closed:
                self._lock.wait()
            if not self._turns:
                return None
            who = self._turns.popleft()
            queue = self._queues[who]
            item = queue.popleft()
            if queue:
                self._turns.append(who)  # back of the line: every other tenant goes first
            else:
                del self._queues[who]
            return item

    def _loop(self) -> None:
        while (item := self._next()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def pending(self, who: str) -> int:
        """Work items of ``who`` still queued."""
        with self._lock:
            return len(self._queues.get(who, ()))

    def shutdown(self) -> None:
        """Cancel what is queued, let the running item finish, stop the thread."""
        with self._lock:
            self._closed = True
            for queue in self._queues.values():
                for future, _, _ in queue:
                    future.cancel()
            self._queues.clear()
            self._turns.clear()
            self._lock.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
