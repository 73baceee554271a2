"""A file over 1 GiB goes up and down through the official client; the server's memory does not grow with it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from huggingface_hub import constants, hf_hub_download

from tests.hub.conftest import Served
from tests.hub.test_contract import api, publish

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
MIB = 1024 * 1024
SIZE = 1024 * MIB + 3 * MIB + 17  # just over 1 GiB, not a multiple of any chunk size


def peak_rss(pid: int) -> int:
    """High-water mark of the resident set (VmHWM) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def write_file(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes in 1 MiB pieces; returns the sha256."""
    block = bytearray(os.urandom(MIB))
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        written, index = 0, 0
        while written < size:
            block[:8] = index.to_bytes(8, "big")
            piece = bytes(block[: min(MIB, size - written)])
            handle.write(piece)
            digest.update(piece)
            written, index = written + len(piece), index + 1
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to read peak RSS")
def test_upload_and_download_over_one_gib_in_constant_memory(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    repo_id = publish(served, tmp_path, "huge")
    source = tmp_path / "huge.bin"
    expected = write_file(source, SIZE)
    before = peak_rss(served.pid)
    api(served, served.orgs.provider).upload_file(
        path_or_fileobj=source, path_in_repo="huge.bin", repo_id=repo_id
    )
    source.unlink()
    target = Path(
        hf_hub_download(repo_id, "huge.bin", local_dir=tmp_path / "down", token=served.orgs.provider)
    )
    growth = peak_rss(served.pid) - before
    print(
        f"server peak RSS {before / MIB:.0f} MiB before, grew {growth / MIB:.1f} MiB for {SIZE / MIB:.0f} MiB"
    )
    assert target.stat().st_size == SIZE
    assert sha256_of(target) == expected
    assert growth < 64 * MIB, (
        f"server peak RSS grew by {growth / MIB:.0f} MiB for a {SIZE / MIB:.0f} MiB file"
    )
    target.unlink()
