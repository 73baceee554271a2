"""Content-addressed blob store: a small interface and the local filesystem implementation.

Blobs are named by their sha256, written atomically (temporary file, fsync, rename) and verified
against the declared hash and size before they become visible, so nothing partial is ever served.
An S3-compatible store implements the same ``BlobStore`` protocol (``s3.py``); ``open_blob_store`` picks
one from the settings.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from valuechain.core.errors import PayloadTooLargeError, ValidationError

if TYPE_CHECKING:
    from valuechain.core.settings import Settings

log = logging.getLogger("valuechain.hub")
READ_CHUNK = 1024 * 1024
STALE_UPLOAD_S = 24 * 3600
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredBlob:
    """A blob that is durably stored and may be referenced by commits."""

    sha256: str
    size: int


class BlobWriter(Protocol):
    """An in-progress upload: feed bytes, then ``finish`` (verify + publish) or ``abort``."""

    def write(self, data: bytes) -> None: ...

    def finish(
        self, *, expected_sha256: str | None = None, expected_size: int | None = None
    ) -> StoredBlob: ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """Where file contents live, keyed by sha256."""

    def begin_write(self, *, max_size: int, expected_sha256: str | None = None) -> BlobWriter: ...

    def put_bytes(self, data: bytes, *, expected_sha256: str | None = None) -> StoredBlob: ...

    def stat(self, sha256: str) -> StoredBlob | None: ...

    def local_path(self, sha256: str) -> Path | None: ...

    def read_range(self, sha256: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...

    def read_bytes(self, sha256: str) -> bytes: ...


def open_blob_store(settings: Settings) -> BlobStore:
    """The store the settings name: the local directory, or the S3 bucket (credentials from the env)."""
    if settings.blob_store == "local":
        return LocalBlobStore(settings.resolved_hub_blob_dir)
    from valuechain.hub.s3 import S3BlobStore, S3Config

    if not settings.s3_bucket:
        raise ValueError("VALUECHAIN_BLOB_STORE=s3 needs VALUECHAIN_S3_BUCKET")
    return S3BlobStore(
        S3Config(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            prefix=settings.s3_prefix,
            access_key_id=os.environ.get(settings.s3_access_key_id_env),
            secret_access_key=os.environ.get(settings.s3_secret_access_key_env),
            path_style=settings.s3_path_style,
            part_bytes=settings.s3_part_bytes,
        )
    )


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a lower-case hex sha256 digest."""
    return bool(_SHA256.match(value))


class LocalBlobWriter:
    """Streams into a temporary file while hashing; constant memory whatever the size."""

    def __init__(self, store: LocalBlobStore, *, max_size: int) -> None:
        self._store = store
        self._max_size = max_size
        self._hash = hashlib.sha256()
        self._size = 0
        fd, name = _mkstemp(store.tmp_dir)
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._done = False

    def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max_size:
            self.abort()
            raise PayloadTooLargeError(f"file exceeds the limit of {self._max_size} bytes")
        self._hash.update(data)
        self._file.write(data)

    def finish(self, *, expected_sha256: str | None = None, expected_size: int | None = None) -> StoredBlob:
        digest = self._hash.hexdigest()
        try:
            if expected_size is not None and expected_size != self._size:
                raise ValidationError(f"size mismatch: declared {expected_size} bytes, received {self._size}")
            if expected_sha256 is not None and expected_sha256 != digest:
                raise ValidationError(f"sha256 mismatch: declared {expected_sha256}, received {digest}")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._store.publish(self._tmp, digest)
        finally:
            self.abort()
        return StoredBlob(sha256=digest, size=self._size)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __del__(self) -> None:  # an upload cut off halfway leaves no temporary file behind
        self.abort()


class LocalBlobStore:
    """Blobs under ``root/sha256/ab/cd/<digest>``; temporary files under ``root/tmp`` (same filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        (root / "sha256").mkdir(parents=True, exist_ok=True)
        _remove_stale(self.tmp_dir, older_than_s=STALE_UPLOAD_S)

    def begin_write(self, *, max_size: int, expected_sha256: str | None = None) -> LocalBlobWriter:
        """A writer to a temporary file (the declared digest is checked by ``finish``)."""
        return LocalBlobWriter(self, max_size=max_size)

    def put_bytes(self, data: bytes, *, expected_sha256: str | None = None) -> StoredBlob:
        """Store a small in-memory blob (regular files from an NDJSON commit)."""
        writer = self.begin_write(max_size=len(data))
        writer.write(data)
        return writer.finish(expected_sha256=expected_sha256, expected_size=len(data))

    def _path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValidationError(f"not a sha256 digest: {sha256[:80]!r}")
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def publish(self, tmp: Path, sha256: str) -> None:
        """Rename a verified temporary file into place; an existing blob wins (de-duplication)."""
        final = self._path(sha256)
        if final.exists():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)

    def stat(self, sha256: str) -> StoredBlob | None:
        try:
            size = self._path(sha256).stat().st_size
        except FileNotFoundError:
            return None
        return StoredBlob(sha256=sha256, size=size)

    def local_path(self, sha256: str) -> Path | None:
        path = self._path(sha256)
        return path if path.exists() else None

    def read_range(self, sha256: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield bytes ``start..end`` (inclusive, like HTTP Range) in 1 MiB chunks."""
        with self._path(sha256).open("rb") as handle:
            handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = handle.read(READ_CHUNK if remaining is None else min(READ_CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob in memory; only for small files such as model cards."""
        return self._path(sha256).read_bytes()


async def sweep_periodically(store: BlobStore, *, every_s: float = 3600.0) -> None:
    """Remove what crashed uploads left in a shared store (``sweep_stale``), now and every ``every_s``."""
    sweep = getattr(store, "sweep_stale", None)
    if sweep is None:  # the local store sweeps its temporary files when it opens
        return
    while True:
        try:
            await asyncio.to_thread(sweep)
        except Exception:  # the store may be briefly away: the next round retries
            log.warning("sweeping the blob store failed", exc_info=True)
        await asyncio.sleep(every_s)


def _mkstemp(directory: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(directory: Path, *, older_than_s: float) -> None:
    """Remove temporary files a crashed process left behind (never visible as blobs)."""
    cutoff = time.time() - older_than_s
    for path in directory.glob("upload-*.part"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
