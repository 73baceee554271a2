"""The settlement journal: every request's metering entry is appended to a local file before its response
is sent, so the database commit can follow the response without a usage record ever being lost.

Each serving process appends to its own segment files (``settle-<pid>-<random>-<n>.jsonl``, one JSON line per
``Entry``) and holds an exclusive ``flock`` on them while it lives. An entry is *pending* from its append
until the batch writer has committed it; a segment whose entries are all committed is truncated (the
current one) or deleted (a rolled one). A process that starts finds the segments no live process holds —
left by a crash or by a shutdown whose database was unreachable — and replays the entries not yet in the
database (``gateway_usage`` ids), then deletes them; a live process sharing the directory does the same
periodically (``UsageRecorder.start_scan``). A segment is created under another name (``.new``), locked,
then renamed: a scanner never takes the lock of a file its live owner is still opening.

Durability is that of SQLite's WAL in ``synchronous=NORMAL`` mode, the store's default: an appended line
survives the process (it is in the kernel's page cache, through a shared memory map, the moment it is
copied), not a power cut of the machine within the kernel's write-back interval.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from valuechain.gateway.records import Entry, RequestLogRow, UsageRow
from valuechain.market.ledger import UsageCharge
from valuechain.oversight.records import MisuseEventRecord

log = logging.getLogger("valuechain.gateway")

SEGMENT_BYTES = 4 * 1024 * 1024  # the size of a segment file, allocated when it is opened
RECYCLE_BYTES = 1024 * 1024  # an all-committed current segment is replaced once this much of it is used


@dataclass(slots=True)
class Segment:
    """One journal file: its descriptor, its memory map (None for another process's file), the bytes
    written and the entries not yet committed."""

    path: Path
    fd: int
    map: mmap.mmap | None = None
    size: int = 0
    pending: int = 0


class Journal:
    """Append-only segment files of one process, locked against every other process.

    A segment is allocated whole when it is opened (``posix_fallocate``: a full disk fails there, not on a
    later page fault) and mapped shared: appending a line is a copy into the page cache, with no system
    call that would hand the interpreter lock to the metering thread mid-request. Unwritten space reads as
    zero bytes, where a reader stops.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = 0
        self._name = f"settle-{os.getpid()}-{secrets.token_hex(3)}"  # several journals may share a process
        self._segments: dict[Path, Segment] = {}  # this process's open segments
        self._current = self._open_segment(SEGMENT_BYTES)

    def _open_segment(self, capacity: int) -> Segment:
        self._seq += 1
        path = self.directory / f"{self._name}-{self._seq}.jsonl"
        opening = path.with_name(path.name + ".new")  # not a segment name: no scanner opens it
        fd = os.open(opening, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.posix_fallocate(fd, 0, capacity)
            mapped = mmap.mmap(fd, capacity)
            os.replace(opening, path)  # visible to scanners only once locked
        except BaseException:
            os.close(fd)
            opening.unlink(missing_ok=True)
            raise
        segment = self._segments[path] = Segment(path=path, fd=fd, map=mapped)
        return segment

    def append(self, entry: Entry) -> Segment:
        """Write ``entry`` as one line; the returned segment is handed back to ``committed``."""
        line = orjson.dumps(entry, default=str) + b"\n"
        segment = self._current
        assert segment.map is not None
        end = segment.size + len(line)
        if end > len(segment.map):  # full: the next segment holds at least this line
            segment = self._current = self._open_segment(max(SEGMENT_BYTES, len(line)))
            assert segment.map is not None
            end = len(line)
        segment.map[segment.size : end] = line
        segment.size = end
        segment.pending += 1
        return segment

    def committed(self, segment: Segment, count: int = 1) -> None:
        """``count`` entries of ``segment`` are in the database; reclaim the file when none is pending."""
        segment.pending -= count
        if segment.pending:
            return
        if segment is self._current:
            if segment.size < RECYCLE_BYTES:
                return
            self._current = self._open_segment(SEGMENT_BYTES)  # a fresh one, rather than zeroing this one
        self._segments.pop(segment.path, None)
        _unlink(segment)

    def close(self) -> None:
        """Release this process's segments: empty ones are deleted, the rest stay for the next start."""
        for segment in self._segments.values():
            if segment.pending <= 0:
                _unlink(segment)
            else:
                left, name = segment.pending, segment.path.name
                log.warning("%d metering entries left in %s for the next start", left, name)
                _release(segment)
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
        _release(segment)


def _release(segment: Segment) -> None:
    if segment.map is not None:
        segment.map.close()
        segment.map = None
    os.close(segment.fd)


def _read(path: Path) -> Iterator[Entry]:
    data = path.read_bytes()
    written = data.find(b"\0")  # the unwritten rest of the segment is zeros
    lines = (data if written < 0 else data[:written]).split(b"\n")
    if lines[-1]:  # torn by a crash during the copy: no response was sent
        log.warning("skipping a torn last line of %s", path)
    for number, line in enumerate(lines[:-1], 1):
        try:
            yield decode(orjson.loads(line))
        except (orjson.JSONDecodeError, TypeError, ValueError, KeyError):
            log.error("unreadable metering entry on line %d of %s", number, path)


def decode(data: dict[str, Any]) -> Entry:
    """An ``Entry`` from its journal line."""
    return Entry(
        usage=_record(UsageRow, data["usage"]),
        charge=_charge(data["charge"]) if data.get("charge") else None,
        request_log=_record(RequestLogRow, data["request_log"]) if data.get("request_log") else None,
        events=[_record(MisuseEventRecord, e) for e in data.get("events") or []],
    )


def _charge(values: dict[str, Any]) -> UsageCharge:
    """A usage charge; JSON made its white-label legs (issue 11) lists, the record holds tuples."""
    charge: UsageCharge = _record(UsageCharge, values)
    return replace(charge, splits=tuple((str(a), str(b), int(n)) for a, b, n in charge.splits))


_DATETIMES: dict[type, frozenset[str]] = {}


def _record(cls: type, values: dict[str, Any]) -> Any:
    names = _DATETIMES.get(cls)
    if names is None:
        names = _DATETIMES[cls] = frozenset(f.name for f in fields(cls) if "datetime" in str(f.type))
    return cls(
        **{k: datetime.fromisoformat(v) if k in names and v is not None else v for k, v in values.items()}
    )
