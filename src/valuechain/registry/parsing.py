"""Manifest parsing off the event loop, in worker processes (issue 17).

yaml-rs and pydantic-core parse a whole document in native code without releasing the GIL (about 0.4 s each
for 8 MB), so a thread would still stall every other request; a worker process does not. Results come back
as values (a manifest, counts or the problems), never as exceptions, so they survive pickling.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from valuechain.registry.check import ManifestError, Problem, parse_manifest
from valuechain.registry.manifest import ChainManifest

SECTIONS = ("actors", "models", "derivations", "offers", "systems")


def _parse(text: str) -> ChainManifest | list[Problem]:
    try:
        return parse_manifest(text)
    except ManifestError as exc:
        return exc.problems


def _count(text: str) -> dict[str, int] | list[Problem]:
    result = _parse(text)
    return result if isinstance(result, list) else {k: len(getattr(result, k)) for k in SECTIONS}


class ManifestParser:
    """A small pool of worker processes, started on first use; ``close`` stops them."""

    def __init__(self, *, workers: int = 2) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:  # spawn: forking a process that runs threads is unsafe
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    async def parse(self, text: str) -> ChainManifest:
        """The checked manifest; ``ManifestError`` lists every problem."""
        result = await asyncio.wrap_future(self._executor().submit(_parse, text))
        if isinstance(result, list):
            raise ManifestError(result)
        return result

    async def count(self, text: str) -> dict[str, int]:
        """Records per section of a valid manifest; ``ManifestError`` lists every problem."""
        result = await asyncio.wrap_future(self._executor().submit(_count, text))
        if isinstance(result, list):
            raise ManifestError(result)
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
