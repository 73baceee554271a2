"""The settlement journal: every request's metering entry is appended to a local file before its response
is sent, so the database commit can follow the response without a usage record ever being lost.

Each serving process appends to its own segment files (``settle-<pid>-<random>-<n>.jsonl``, one JSON line per
``Entry``) and holds an exclusive ``flock`` on them while it lives. An entry is *pending* from its append
until the batch writer has committed it; a segment whose entries are all committed is truncated (the
current one) or deleted (a rolled one). A process that starts finds the segments no live process holds —
left by a crash or by a shutdown whose database was unreachable — and replays the entries not yet in the
database (``gateway_usage`` ids), then deletes them.

Durability is that of SQLite's WAL in ``synchronous=NORMAL`` mode, the store's default: an appended line
survives the process (it is in the kernel's page cache the moment ``write`` returns), not a power cut of
the machine within the kernel's write-back interval.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from valuechain.gateway.records import Entry, RequestLogRow, UsageRow
from valuechain.market.ledger import UsageCharge
from valuechain.oversight.records import MisuseEventRecord

log = logging.getLogger("valuechain.gateway")

SEGMENT_BYTES = 16 * 1024 * 1024  # a segment rolls over past this size
TRUNCATE_BYTES = 1024 * 1024  # the current segment is emptied once it holds this much, all committed


@dataclass(slots=True)
class Segment:
    """One journal file of this process: its descriptor, size and entries not yet committed."""

    path: Path
    fd: int
    size: int = 0
    pending: int = 0


class Journal:
    """Append-only segment files of one process, locked against every other process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = 0
        self._name = f"settle-{os.getpid()}-{secrets.token_hex(3)}"  # several journals may share a process
        self._segments: dict[Path, Segment] = {}  # this process's open segments
        self._current = self._open_segment()

    def _open_segment(self) -> Segment:
        self._seq += 1
        path = self.directory / f"{self._name}-{self._seq}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        segment = self._segments[path] = Segment(path=path, fd=fd)
        return segment

    def append(self, entry: Entry) -> Segment:
        """Write ``entry`` as one line; the returned segment is handed back to ``committed``."""
        line = orjson.dumps(entry, default=str) + b"\n"
        segment = self._current
        written = os.write(segment.fd, line)
        if written != len(line):  # a full disk: what was written is a torn line that replay skips
            raise OSError(f"journal write of {len(line)} bytes wrote {written}")
        segment.size += written
        segment.pending += 1
        if segment.size >= SEGMENT_BYTES:
            self._current = self._open_segment()
        return segment

    def committed(self, segment: Segment, count: int = 1) -> None:
        """``count`` entries of ``segment`` are in the database; reclaim the file when none is pending."""
        segment.pending -= count
        if segment.pending:
            return
        if segment is not self._current:
            self._segments.pop(segment.path, None)
            _unlink(segment)
        elif segment.size >= TRUNCATE_BYTES:
            os.ftruncate(segment.fd, 0)
            segment.size = 0

    def close(self) -> None:
        """Release this process's segments: empty ones are deleted, the rest stay for the next start."""
        for segment in self._segments.values():
            if segment.pending <= 0:
                _unlink(segment)
            else:
                left, name = segment.pending, segment.path.name
                log.warning("%d metering entries left in %s for the next start", left, name)
                os.close(segment.fd)
        self._segments.clear()

    @property
    def pending(self) -> int:
        """Entries of this process appended and not yet committed."""
        return sum(s.pending for s in self._segments.values())

    def orphans(self) -> Iterator[tuple[Segment, list[Entry]]]:
        """Segments no live process holds, locked for this one, with their readable entries."""
        for path in sorted(self.directory.glob("settle-*.jsonl")):
            if path == self._current.path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:  # another starting process took it
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its process is alive
                os.close(fd)
                continue
            if not path.exists():  # deleted between our open and our lock
                os.close(fd)
                continue
            entries = list(_read(path))
            segment = Segment(path=path, fd=fd, size=path.stat().st_size, pending=len(entries))
            self._segments[path] = segment  # closed with this process's own if not replayed by then
            yield segment, entries


def _unlink(segment: Segment) -> None:
    try:
        segment.path.unlink(missing_ok=True)
    finally:
        os.close(segment.fd)


def _read(path: Path) -> Iterator[Entry]:
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            if not line.endswith(b"\n"):  # torn by a crash during the write: no response was sent
                log.warning("skipping a torn last line of %s", path)
                continue
            try:
                yield decode(orjson.loads(line))
            except (orjson.JSONDecodeError, TypeError, ValueError, KeyError):
                log.error("unreadable metering entry on line %d of %s", number, path)


def decode(data: dict[str, Any]) -> Entry:
    """An ``Entry`` from its journal line."""
    return Entry(
        usage=_record(UsageRow, data["usage"]),
        charge=_record(UsageCharge, data["charge"]) if data.get("charge") else None,
        request_log=_record(RequestLogRow, data["request_log"]) if data.get("request_log") else None,
        events=[_record(MisuseEventRecord, e) for e in data.get("events") or []],
    )


_DATETIMES: dict[type, frozenset[str]] = {}


def _record(cls: type, values: dict[str, Any]) -> Any:
    names = _DATETIMES.get(cls)
    if names is None:
        names = _DATETIMES[cls] = frozenset(f.name for f in fields(cls) if "datetime" in str(f.type))
    return cls(
        **{k: datetime.fromisoformat(v) if k in names and v is not None else v for k, v in values.items()}
    )
