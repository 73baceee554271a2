"""The local blob store: atomic, verified, de-duplicated, Range reads; and safe file names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from valuechain.core.errors import PayloadTooLargeError, ValidationError
from valuechain.hub.cards import parse_card
from valuechain.hub.paths import check_file_path
from valuechain.hub.storage import LocalBlobStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def test_put_verifies_and_deduplicates(store: LocalBlobStore) -> None:
    first = store.put_bytes(b"hello", expected_sha256=sha(b"hello"))
    second = store.put_bytes(b"hello")
    assert first == second and first.size == 5
    assert store.stat(sha(b"hello")) == first
    assert len(list((store.root / "sha256").rglob("*"))) == 3  # two fan-out folders and one blob
    assert not list(store.tmp_dir.iterdir())


def test_hash_mismatch_leaves_nothing(store: LocalBlobStore) -> None:
    with pytest.raises(ValidationError, match="sha256 mismatch"):
        store.put_bytes(b"hello", expected_sha256=sha(b"other"))
    assert store.stat(sha(b"hello")) is None and not list(store.tmp_dir.iterdir())


def test_size_mismatch_and_cut_off_upload_leave_nothing(store: LocalBlobStore) -> None:
    writer = store.begin_write(max_size=100)
    writer.write(b"half")
    with pytest.raises(ValidationError, match="size mismatch"):
        writer.finish(expected_size=8)
    cut = store.begin_write(max_size=100)
    cut.write(b"partial")
    cut.abort()  # the connection dropped
    assert not list(store.tmp_dir.iterdir()) and store.stat(sha(b"half")) is None


def test_oversized_upload_is_refused(store: LocalBlobStore) -> None:
    writer = store.begin_write(max_size=4)
    with pytest.raises(PayloadTooLargeError):
        writer.write(b"too large")
    assert not list(store.tmp_dir.iterdir())


def test_range_reads(store: LocalBlobStore) -> None:
    data = bytes(range(256)) * 10_000
    blob = store.put_bytes(data)
    assert b"".join(store.read_range(blob.sha256, start=1000, end=2000)) == data[1000:2001]
    assert b"".join(store.read_range(blob.sha256, start=len(data) - 5)) == data[-5:]


def test_names_that_are_not_digests_are_refused(store: LocalBlobStore) -> None:
    with pytest.raises(ValidationError):
        store.stat("../../etc/passwd")


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a/../../x",
        "/etc/passwd",
        "C:/x",
        "a\\b",
        "a//b",
        "./a",
        "a\x00b",
        "a\nb",
        "",
        ".git/config",
        "x" * 1001,
    ],
)
def test_unsafe_file_names(name: str) -> None:
    with pytest.raises(ValidationError):
        check_file_path(name)


def test_safe_file_names() -> None:
    for name in ("config.json", "sub/dir/model-00001-of-00002.safetensors", "ünï cödé.txt"):
        assert check_file_path(name) == name


def test_card_front_matter() -> None:
    card = parse_card(
        "---\nlicense: other\nlicense_name: acme-open\nbase_model: [a/one, b/two]\ndatasets: d/x\n"
        "language: en\npipeline_tag: text-generation\ntags: [x]\n---\n# Model\n"
    )
    assert card.license == "other" and card.license_name == "acme-open"
    assert card.base_models == ("a/one", "b/two") and card.relation == "merge"
    assert card.datasets == ("d/x",) and card.language == ("en",)
    assert "base_model:merge:a/one" in card.hub_tags()
    assert parse_card("# no front matter").license is None
    with pytest.raises(ValidationError):
        parse_card("---\nbase_model_relation: cousin\nbase_model: a/b\n---\n")
