"""The blob-store contract, held by the local store and the S3 store alike (atomic, verified,
de-duplicated, Range reads, nothing left by a failed upload); S3 multipart uploads; safe file names."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server
from valuechain.core.errors import PayloadTooLargeError, ValidationError
from valuechain.core.metrics import BLOB_ERRORS
from valuechain.hub.cards import parse_card
from valuechain.hub.paths import check_file_path
from valuechain.hub.s3 import S3BlobStore, S3Config
from valuechain.hub.storage import BlobStore, LocalBlobStore

MIB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def s3_store(server: S3Server, *, part_bytes: int = 5 * MIB, prefix: str = "p/") -> S3BlobStore:
    config = S3Config(
        bucket=server.new_bucket(),
        endpoint_url=server.url,
        prefix=prefix,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        path_style=True,
        part_bytes=part_bytes,
    )
    return S3BlobStore(config)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """Each contract test runs against the local store and against the S3 store (a moto server)."""
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
    else:
        yield s3_store(request.getfixturevalue("s3_server"))


def leftovers(store: BlobStore) -> list[str]:
    """What an upload left outside the visible blobs: temporary files, incomplete or temporary objects."""
    if isinstance(store, LocalBlobStore):
        return [p.name for p in store.tmp_dir.iterdir()]
    assert isinstance(store, S3BlobStore)
    client: Any = store.client
    uploads = client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    tmp = client.list_objects_v2(Bucket=store.bucket, Prefix=f"{store.prefix}tmp/").get("Contents", [])
    return [u["Key"] for u in uploads] + [o["Key"] for o in tmp]


def test_put_verifies_and_deduplicates(store: BlobStore) -> None:
    first = store.put_bytes(b"hello", expected_sha256=sha(b"hello"))
    second = store.put_bytes(b"hello")
    assert first == second and first.size == 5
    assert store.stat(sha(b"hello")) == first
    assert store.read_bytes(first.sha256) == b"hello"
    assert not leftovers(store)


def test_local_layout(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put_bytes(b"hello")
    assert len(list((store.root / "sha256").rglob("*"))) == 3  # two fan-out folders and one blob


def test_hash_mismatch_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(ValidationError, match="sha256 mismatch"):
        store.put_bytes(b"hello", expected_sha256=sha(b"other"))
    assert store.stat(sha(b"hello")) is None and not leftovers(store)


def test_size_mismatch_and_cut_off_upload_leave_nothing(store: BlobStore) -> None:
    writer = store.begin_write(max_size=100)
    writer.write(b"half")
    with pytest.raises(ValidationError, match="size mismatch"):
        writer.finish(expected_size=8)
    cut = store.begin_write(max_size=100)
    cut.write(b"partial")
    cut.abort()  # the connection dropped
    assert not leftovers(store) and store.stat(sha(b"half")) is None


def test_oversized_upload_is_refused(store: BlobStore) -> None:
    writer = store.begin_write(max_size=4)
    with pytest.raises(PayloadTooLargeError):
        writer.write(b"too large")
    assert not leftovers(store)


def test_range_reads(store: BlobStore) -> None:
    data = bytes(range(256)) * 10_000
    blob = store.put_bytes(data)
    assert b"".join(store.read_range(blob.sha256, start=1000, end=2000)) == data[1000:2001]
    assert b"".join(store.read_range(blob.sha256, start=len(data) - 5)) == data[-5:]
    assert b"".join(store.read_range(blob.sha256)) == data


def test_streamed_write_of_several_parts(store: BlobStore) -> None:
    """A large file streamed in pieces: stored whole (S3: a multipart upload of 5 MiB parts)."""
    data = bytes(range(256)) * (48 * 1024)  # 12 MiB: two full parts and a short last one
    for declared in (sha(data), None):  # declared (final key) or not (temporary key, then copy)
        writer = store.begin_write(max_size=len(data), expected_sha256=declared)
        for i in range(0, len(data), 3 * MIB):
            writer.write(data[i : i + 3 * MIB])
        blob = writer.finish(expected_sha256=declared, expected_size=len(data))
        assert blob.sha256 == sha(data) and store.stat(blob.sha256) == blob
        assert (
            b"".join(store.read_range(blob.sha256, start=5 * MIB - 3, end=5 * MIB + 2))
            == data[5 * MIB - 3 : 5 * MIB + 3]
        )
        assert not leftovers(store)


def test_large_file_with_a_wrong_hash_never_becomes_visible(store: BlobStore) -> None:
    data = b"x" * (11 * MIB)
    writer = store.begin_write(max_size=len(data), expected_sha256=sha(b"other"))
    writer.write(data)
    with pytest.raises(ValidationError, match="sha256 mismatch"):
        writer.finish(expected_sha256=sha(b"other"), expected_size=len(data))
    assert store.stat(sha(data)) is None and store.stat(sha(b"other")) is None
    assert not leftovers(store)


def test_s3_sweeps_what_a_crashed_process_left(s3_server: S3Server) -> None:
    store = s3_store(s3_server)
    store.client.put_object(Bucket=store.bucket, Key=store.tmp_key(), Body=b"left")
    assert store.sweep_stale(older_than_s=3600) == 0  # young: maybe still in use
    writer = store.begin_write(max_size=20 * MIB, expected_sha256=None)
    writer.write(b"y" * (11 * MIB))  # a multipart upload is in progress: the process "crashes"
    assert len(leftovers(store)) == 2
    # (moto dates every multipart upload in 2010, so only the temporary object shows the age check)
    assert store.sweep_stale(older_than_s=-60) == 2
    assert not leftovers(store)
    writer._upload_id = None  # already aborted by the sweep


def test_s3_errors_are_counted(s3_server: S3Server) -> None:
    store = s3_store(s3_server)
    store.bucket = "no-such-bucket-anywhere"
    before = BLOB_ERRORS.labels(store="s3", operation="put")._value.get()
    with pytest.raises(Exception, match="NoSuchBucket"):
        store.put_bytes(b"hello")
    assert BLOB_ERRORS.labels(store="s3", operation="put")._value.get() == before + 1


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
