"""Adapters on a serving machine: the local store's own file, or a copy fetched from S3 into a
content-addressed cache, verified by sha256 before llama.cpp may load it (issue 12)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.test_storage import s3_store
from valuechain.hub.storage import BlobStore, LocalBlobStore
from valuechain.runtime.adapters import AdapterCache
from valuechain.runtime.base import BackendUnavailableError
from valuechain.runtime.pool import build_backend

ADAPTER = b"GGUF" + bytes(range(256)) * 64


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return s3_store(request.getfixturevalue("s3_server"))


def test_the_adapter_is_a_local_file_with_its_bytes(store: BlobStore, tmp_path: Path) -> None:
    blob = store.put_bytes(ADAPTER)
    cache = AdapterCache(store, tmp_path / "cache")
    path = cache.path(blob.sha256)
    assert path.read_bytes() == ADAPTER
    if isinstance(store, LocalBlobStore):  # the store's own file: nothing copied
        assert path == store.local_path(blob.sha256)
        assert not (tmp_path / "cache").exists()
    else:  # fetched once into the cache, named by its sha256
        assert path == tmp_path / "cache" / blob.sha256[:2] / blob.sha256
        assert cache.path(blob.sha256) == path


class Lying:
    """A store that answers with other bytes than the ones asked for (a corrupt object)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def local_path(self, sha256: str) -> Path | None:
        return None

    def read_range(self, sha256: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        self.reads += 1
        yield self.data


def test_a_corrupt_download_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    wanted = hashlib.sha256(ADAPTER).hexdigest()
    cache = AdapterCache(Lying(ADAPTER[:-1] + b"x"), tmp_path / "cache")
    with pytest.raises(BackendUnavailableError, match="corrupt"):
        cache.path(wanted)
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_verified_copy_is_downloaded_once(tmp_path: Path) -> None:
    source = Lying(ADAPTER)
    cache = AdapterCache(source, tmp_path / "cache")
    sha256 = hashlib.sha256(ADAPTER).hexdigest()
    assert cache.path(sha256).read_bytes() == ADAPTER
    cache.path(sha256)
    assert source.reads == 1


def test_a_fine_tunes_binding_loads_its_adapter_from_s3(s3_server: object, tmp_path: Path) -> None:
    """A binding made on the training machine (``lora_path`` there, ``lora_sha256``) served elsewhere."""
    store = s3_store(s3_server)  # type: ignore[arg-type]
    blob = store.put_bytes(ADAPTER)
    config = {"lora_path": "/elsewhere/adapter.gguf", "lora_sha256": blob.sha256, "served_name": "ft"}
    backend = build_backend(
        "embedded", config, context_length=512, adapters=AdapterCache(store, tmp_path / "cache")
    )
    adapter = backend.config.adapter  # type: ignore[attr-defined]
    assert adapter is not None
    assert adapter().read_bytes() == ADAPTER
