"""Contract tests: the official huggingface_hub client against a served valuechain (HF_ENDPOINT=.../hub)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    HfApi,
    constants,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hub.conftest import Served

pytestmark = pytest.mark.e2e

CARD = """---
license: apache-2.0
base_model: HuggingFaceTB/SmolLM2-135M-Instruct
base_model_relation: quantized
pipeline_tag: text-generation
language: [en]
tags: [tiny]
datasets: [demo/data]
---
# Tiny test model
"""


def api(served: Served, secret: str | None) -> HfApi:
    return HfApi(endpoint=served.endpoint, token=secret)


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def publish(
    served: Served, tmp_path: Path, name: str, *, private: bool = False, gated: str | None = None
) -> str:
    """A repo of the provider with a card, a config and a nested weights file (LFS by the default
    `.gitattributes`, so uploaded with Xet off, as docs/hub.md says)."""
    provider = api(served, served.orgs.provider)
    repo_id = f"acme/{name}"
    provider.create_repo(repo_id, private=private)
    folder = make_folder(
        tmp_path / name,
        {
            "README.md": CARD.encode(),
            "config.json": b'{"model_type": "tiny"}',
            "sub/weights.bin": b"\x00" * 1000,
        },
    )
    with mock.patch.object(constants, "HF_HUB_DISABLE_XET", True):
        provider.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="first upload")
    if gated:
        provider.update_repo_settings(repo_id, gated=gated)
    return repo_id


def test_endpoint_is_ours(served: Served) -> None:
    assert served.endpoint == constants.ENDPOINT


def test_upload_and_read_back_with_the_default_client(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "tiny")
    hf = api(served, served.orgs.developer)
    info = hf.model_info(repo_id, files_metadata=True)
    assert info.id == repo_id and info.sha and not info.private
    assert info.card_data is not None and info.card_data.license == "apache-2.0"
    assert "base_model:quantized:HuggingFaceTB/SmolLM2-135M-Instruct" in (info.tags or [])
    files = [".gitattributes", "README.md", "config.json", "sub/weights.bin"]
    assert sorted(s.rfilename for s in info.siblings or []) == files
    weights = next(s for s in info.siblings or [] if s.rfilename == "sub/weights.bin")
    assert weights.lfs is not None and weights.lfs.sha256 == hashlib.sha256(b"\x00" * 1000).hexdigest()
    assert sorted(hf.list_repo_files(repo_id)) == files
    tree = {e.path: e for e in hf.list_repo_tree(repo_id, recursive=True)}
    assert set(tree) == {*files, "sub"}
    assert [e.path for e in hf.list_repo_tree(repo_id, path_in_repo="sub")] == ["sub/weights.bin"]
    assert hf.repo_exists(repo_id) and hf.file_exists(repo_id, "config.json")
    assert not hf.file_exists(repo_id, "missing.bin") and not hf.repo_exists("acme/missing")
    assert repo_id in {m.id for m in hf.list_models(author="acme")}
    assert repo_id in {m.id for m in hf.list_models(filter="tiny")}
    cache = tmp_path / "cache"
    path = hf_hub_download(repo_id, "config.json", cache_dir=cache, token=served.orgs.developer)
    assert Path(path).read_bytes() == b'{"model_type": "tiny"}'
    snapshot = Path(snapshot_download(repo_id, cache_dir=cache, token=served.orgs.developer))
    assert (snapshot / "sub" / "weights.bin").read_bytes() == b"\x00" * 1000
    assert snapshot.name == info.sha


def test_create_repo_exist_ok_and_commit_history(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "history")
    provider = api(served, served.orgs.provider)
    assert provider.create_repo(repo_id, exist_ok=True).endswith(repo_id)
    with pytest.raises(HfHubHTTPError):
        provider.create_repo(repo_id)
    provider.upload_file(path_or_fileobj=b"v2", path_in_repo="notes.txt", repo_id=repo_id)
    commits = provider.list_repo_commits(repo_id)
    assert [c.title for c in commits][:2] == ["Upload notes.txt with huggingface_hub", "first upload"]
    provider.create_tag(repo_id, tag="v1", revision=commits[1].commit_id)
    assert not provider.file_exists(repo_id, "notes.txt", revision="v1")
    assert provider.file_exists(repo_id, "notes.txt")


def test_large_file_through_lfs_batch(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    provider = api(served, served.orgs.provider)
    repo_id = publish(served, tmp_path, "large")
    big = tmp_path / "big.bin"
    big.write_bytes(b"0123456789abcdef" * (1024 * 1024))  # 16 MiB: over the inline limit, so LFS
    provider.upload_file(path_or_fileobj=big, path_in_repo="big.bin", repo_id=repo_id)
    entry = next(e for e in provider.list_repo_tree(repo_id) if e.path == "big.bin")
    assert entry.lfs is not None and entry.lfs.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    path = hf_hub_download(repo_id, "big.bin", cache_dir=tmp_path / "cache", token=served.orgs.provider)
    assert Path(path).read_bytes() == big.read_bytes()


def test_xet_upload_fails_with_what_to_set(served: Served, tmp_path: Path) -> None:
    provider = api(served, served.orgs.provider)
    repo_id = publish(served, tmp_path, "xet")
    small = tmp_path / "small.bin"  # LFS by the default .gitattributes, however small: Xet by default
    small.write_bytes(b"x" * 8)
    with pytest.raises(Exception, match="HF_HUB_DISABLE_XET=1"):
        provider.upload_file(path_or_fileobj=str(small), path_in_repo="small.bin", repo_id=repo_id)
    provider.upload_file(path_or_fileobj=b"notes", path_in_repo="notes.txt", repo_id=repo_id)  # inline


def test_not_found_errors(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "found")
    hf = api(served, served.orgs.developer)
    with pytest.raises(RepositoryNotFoundError):
        hf.model_info("acme/nothing-here")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(
            "acme/nothing-here", "config.json", cache_dir=tmp_path / "c1", token=served.orgs.developer
        )
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            repo_id, "config.json", revision="nope", cache_dir=tmp_path / "c2", token=served.orgs.developer
        )
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "nope.json", cache_dir=tmp_path / "c3", token=served.orgs.developer)


def test_private_repo_is_invisible_to_outsiders(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "secret", private=True)
    outsider = api(served, served.orgs.outsider)
    with pytest.raises(RepositoryNotFoundError) as not_found:
        outsider.model_info(repo_id)
    assert not isinstance(not_found.value, GatedRepoError)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo_id, "config.json", cache_dir=tmp_path / "c", token=served.orgs.outsider)
    assert not outsider.repo_exists(repo_id)
    assert repo_id not in {m.id for m in outsider.list_models(author="acme")}
    assert api(served, served.orgs.provider).model_info(repo_id).private


def test_gated_repo_needs_accepted_terms(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "gated", gated="auto")
    developer = api(served, served.orgs.developer)
    assert developer.model_info(repo_id).gated == "auto"  # metadata stays readable
    for token in (None, served.orgs.developer):
        with pytest.raises(GatedRepoError):
            hf_hub_download(repo_id, "config.json", cache_dir=tmp_path / "c0", token=token)
    accepted = httpx.post(
        f"{served.endpoint}/api/models/{repo_id}/accept",
        headers={"authorization": f"Bearer {served.orgs.developer}"},
    )
    assert accepted.status_code == 200 and accepted.json()["terms"] == "apache-2.0"
    path = hf_hub_download(repo_id, "config.json", cache_dir=tmp_path / "c1", token=served.orgs.developer)
    assert Path(path).read_bytes() == b'{"model_type": "tiny"}'
    with pytest.raises(GatedRepoError):
        hf_hub_download(repo_id, "config.json", cache_dir=tmp_path / "c2", token=served.orgs.outsider)


def test_stale_parent_commit_is_rejected(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "stale")
    provider = api(served, served.orgs.provider)
    parent = provider.model_info(repo_id).sha
    provider.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo_id)
    with pytest.raises(HfHubHTTPError) as conflict:
        provider.create_commit(
            repo_id, [CommitOperationAdd("b.txt", b"b")], commit_message="late", parent_commit=parent
        )
    assert conflict.value.response.status_code == 412


def test_concurrent_commits_to_one_branch_give_one_conflict(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "race")
    provider = api(served, served.orgs.provider)
    parent = provider.model_info(repo_id).sha
    outcomes: list[str] = []

    def commit(name: str) -> None:
        try:
            api(served, served.orgs.provider).create_commit(
                repo_id,
                [CommitOperationAdd(f"{name}.txt", name.encode())],
                commit_message=name,
                parent_commit=parent,
            )
            outcomes.append("ok")
        except HfHubHTTPError as exc:
            outcomes.append(str(exc.response.status_code))

    threads = [threading.Thread(target=commit, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["412", "ok"]
    files = set(provider.list_repo_files(repo_id))
    assert len(files & {"left.txt", "right.txt"}) == 1


def test_concurrent_commits_without_parent_both_land(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "both")
    outcomes: list[str] = []

    def commit(name: str) -> None:
        hf = api(served, served.orgs.provider)
        hf.create_commit(repo_id, [CommitOperationAdd(f"{name}.txt", name.encode())], commit_message=name)
        outcomes.append(name)

    threads = [threading.Thread(target=commit, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["left", "right"]
    assert {"left.txt", "right.txt"} <= set(api(served, served.orgs.provider).list_repo_files(repo_id))


def test_upload_cut_off_halfway_leaves_nothing(served: Served, tmp_path: Path) -> None:
    repo_id = publish(served, tmp_path, "cutoff")
    data = os.urandom(4 * 1024 * 1024)
    oid = hashlib.sha256(data).hexdigest()
    batch = httpx.post(
        f"{served.endpoint}/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(data)}]},
        headers={"authorization": f"Bearer {served.orgs.provider}"},
    ).json()
    href = urlsplit(batch["objects"][0]["actions"]["upload"]["href"])
    with socket.create_connection((href.hostname, href.port)) as sock:
        head = f"PUT {href.path}?{href.query} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n"
        sock.sendall(head.encode() + data[: len(data) // 2])
    deadline = time.monotonic() + 10
    tmp_dir = served.home / "blobs" / "tmp"
    while any(tmp_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(tmp_dir.iterdir())
    assert not list((served.home / "blobs" / "sha256").rglob(oid))
