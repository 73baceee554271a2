"""LoRA adapters on the serving machine: read from the blob store's file, or fetched to a local cache.

A fine-tune's binding names its adapter by sha256 (``lora_sha256``). On the local blob store the adapter is
the store's own file; on an object store (S3) a serving machine has no such file, so the adapter is
downloaded once into a content-addressed cache, its sha256 checked before it is renamed into place, and
llama.cpp loads that file (issue 12).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from valuechain.runtime.base import BackendUnavailableError


class BlobSource(Protocol):
    """What the cache needs of a blob store (``hub.storage.BlobStore`` is one)."""

    def local_path(self, sha256: str) -> Path | None: ...

    def read_range(self, sha256: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...


class AdapterCache:
    """Adapter files by sha256: the store's local file when it has one, else a verified local copy."""

    def __init__(self, source: BlobSource | None, root: Path) -> None:
        self.source, self.root = source, root
        self._lock = threading.Lock()

    def path(self, sha256: str, *, fallback: Path | None = None) -> Path:
        """A local file holding the blob ``sha256``, downloading it into the cache if needed."""
        if self.source is not None:
            local = self.source.local_path(sha256)
            if local is not None and local.is_file():
                return local
        cached = self.root / sha256[:2] / sha256
        if cached.is_file():  # only a verified download is ever renamed here
            return cached
        if self.source is None:
            if fallback is not None and fallback.is_file():
                return fallback
            raise BackendUnavailableError("the adapter is not on this machine and no blob store is open")
        with self._lock:
            if not cached.is_file():
                self._download(sha256, cached)
        return cached

    def _download(self, sha256: str, target: Path) -> None:
        assert self.source is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in self.source.read_range(sha256):
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if digest.hexdigest() != sha256:
                raise BackendUnavailableError(f"adapter {sha256[:12]}… from the blob store is corrupt")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
