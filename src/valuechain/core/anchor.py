"""Audit checkpoints outside the database: the chain's head (sequence number and hash), signed with an
Ed25519 key kept in the data directory and appended to a file there (issue 17, part 7).

A checkpoint anchors every event up to its sequence number: rows deleted and the head rewound, or a row
edited and every later hash recomputed, no longer match it. The threat model is in docs/audit.md.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.core.clock import utcnow
from valuechain.core.db import Database

log = logging.getLogger(__name__)

# Domain separation: a checkpoint signature can never be replayed as any other signed message.
_CONTEXT = b"valuechain-audit-checkpoint/v1\n"
# How often a served process anchors new events at most (and at least, while events arrive).
CHECKPOINT_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head at one moment, as signed: every event up to ``seq`` is anchored."""

    seq: int
    hash: str
    at: str
    line: int = 0

    def message(self) -> bytes:
        return _CONTEXT + orjson.dumps({"seq": self.seq, "hash": self.hash, "at": self.at})


class Anchor:
    """The signing key and the append-only checkpoint file of one data directory (``HOME/audit``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key_path = directory / "anchor.key"
        self.public_path = directory / "anchor.pub"
        self.log_path = directory / "checkpoints.jsonl"
        self._lock = threading.Lock()

    @classmethod
    def of_home(cls, home: Path) -> Anchor:
        return cls(home / "audit")

    def checkpoint(self, session: Session) -> Checkpoint | None:
        """Sign and append the current head if it moved past the last checkpoint; None otherwise.

        Refuses (logs, returns None) when the event of the last checkpoint no longer matches it: a
        rewritten chain must not be blessed by a fresh signature.
        """
        from valuechain.core.audit import AuditEvent, AuditHead

        with self._lock:
            head = session.get(AuditHead, 1)
            last = self.last()
            if head is None or head.seq == 0 or (last is not None and head.seq == last.seq):
                return None
            if last is not None:
                anchored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last.seq))
                if anchored != last.hash:
                    log.error("audit chain differs from checkpoint at event %d: not signing", last.seq)
                    return None
            point = Checkpoint(seq=head.seq, hash=head.hash, at=utcnow().isoformat())
            signature = self._private_key().sign(point.message())
            record = {"seq": point.seq, "hash": point.hash, "at": point.at}
            record["sig"] = base64.b64encode(signature).decode()
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:  # one write() of one line: appends from several processes do not interleave
                os.write(fd, orjson.dumps(record) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            return point

    def last(self) -> Checkpoint | None:
        """The last checkpoint in the file (signature not checked), from its final bytes."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        for raw in reversed(lines):
            try:
                data = orjson.loads(raw)
                return Checkpoint(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
        return None

    def read(self) -> tuple[list[Checkpoint], list[str]]:
        """Every checkpoint whose signature verifies, and a problem for each line that does not."""
        if not self.log_path.exists():
            return [], []
        public = self._public_key()
        if public is None:
            return [], [f"{self.log_path} exists but the anchor key {self.key_path} is missing"]
        points: list[Checkpoint] = []
        problems: list[str] = []
        for number, raw in self._lines():
            try:
                data = orjson.loads(raw)
                point = Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]), number)
                public.verify(base64.b64decode(data["sig"], validate=True), point.message())
            except InvalidSignature:
                problems.append(f"checkpoint line {number}: signature does not verify (forged or altered)")
                continue
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                problems.append(f"checkpoint line {number}: unreadable")
                continue
            points.append(point)
        return points, problems

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        with self.log_path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                if raw.strip():
                    yield number, raw

    def _public_key(self) -> Ed25519PublicKey | None:
        try:
            return Ed25519PrivateKey.from_private_bytes(self.key_path.read_bytes()).public_key()
        except FileNotFoundError:
            return None

    def _private_key(self) -> Ed25519PrivateKey:
        """The key, generated on first use: 32 raw bytes, mode 0600, created exclusively (no race)."""
        try:
            return Ed25519PrivateKey.from_private_bytes(self.key_path.read_bytes())
        except FileNotFoundError:
            pass
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first
            return Ed25519PrivateKey.from_private_bytes(self.key_path.read_bytes())
        try:
            os.write(fd, key.private_bytes_raw())
            os.fsync(fd)
        finally:
            os.close(fd)
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_path.write_text(base64.b64encode(public).decode() + "\n", encoding="ascii")
        return key


def check_against(points: list[Checkpoint], hashes: dict[int, str], *, chain_end: int) -> list[str]:
    """Problems of a chain (``hashes``: the hash of each checkpointed sequence number present)."""
    problems: list[str] = []
    for point in points:
        where = f"checkpoint line {point.line} (signed {point.at})"
        if point.seq > chain_end:
            problems.append(
                f"{where} anchors event {point.seq} but the chain ends at event {chain_end} (tail rewound)"
            )
        elif hashes.get(point.seq) != point.hash:
            problems.append(f"{where}: event {point.seq} no longer has the anchored hash (chain rewritten)")
    return problems


class Checkpointer:
    """Anchors the chain after audited commits: a commit hook only marks the chain as moved; the
    served process signs at most every ``CHECKPOINT_EVERY_S`` and at shutdown, the CLI when it exits."""

    def __init__(self, db: Database, anchor: Anchor) -> None:
        self.db, self.anchor = db, anchor
        self._moved = threading.Event()
        self._remove_hook = db.on_commit(self._note)

    def _note(self, tables: frozenset[str]) -> None:
        if "audit_events" in tables:
            self._moved.set()

    def flush(self) -> Checkpoint | None:
        """Sign the head if audited commits happened since the last flush."""
        if not self._moved.is_set():
            return None
        self._moved.clear()
        try:
            with self.db.session() as session:
                return self.anchor.checkpoint(session)
        except Exception:  # anchoring must never take the platform down; verify reports the gap
            log.exception("audit checkpoint failed")
            return None

    async def run(self, *, every_s: float = CHECKPOINT_EVERY_S) -> None:
        """The served process's timer: flush every ``every_s`` seconds, off the event loop."""
        while True:
            await asyncio.sleep(every_s)
            await asyncio.to_thread(self.flush)

    def close(self) -> None:
        self._remove_hook()
        self.flush()
