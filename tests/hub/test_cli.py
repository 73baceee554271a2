"""``valuechain hub push/pull/release/accept/grant`` against a served process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.hub.conftest import Served
from valuechain.cli.main import app

pytestmark = pytest.mark.e2e
CARD = "---\nlicense: apache-2.0\n---\n# cli model\n"


def run(served: Served, secret: str, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(
        app, ["hub", *args, "--endpoint", served.endpoint, "--token", secret, "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_push_release_accept_pull(served: Served, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "README.md").write_text(CARD)
    (folder / "sub" / "small.txt").write_text("hello")
    big = (b"valuechain" * 1_200_000)[: 11 * 1024 * 1024 + 3]  # over the inline limit: goes through LFS
    (folder / "big.bin").write_bytes(big)
    pushed = run(served, served.orgs.provider, "push", str(folder), "--repo", "acme/cli-model")
    assert pushed["files"] == 3 and pushed["lfs_files"] == 1
    released = run(served, served.orgs.provider, "release", "acme/cli-model", "--gated", "manual")
    assert released["channel"] == "open_weights"
    denied = CliRunner().invoke(
        app, ["hub", "pull", "acme/cli-model", "--dir", str(tmp_path / "x"), "--endpoint", served.endpoint,
              "--token", served.orgs.developer],
    )  # fmt: skip
    assert denied.exit_code == 1 and "accept its licence terms" in denied.output
    assert run(served, served.orgs.developer, "accept", "acme/cli-model")["status"] == "pending"
    assert run(served, served.orgs.provider, "grant", "acme/cli-model", "devco")["status"] == "accepted"
    pulled = run(served, served.orgs.developer, "pull", "acme/cli-model", "--dir", str(tmp_path / "copy"))
    assert pulled["commit"] == pushed["commit"]
    assert (tmp_path / "copy" / "big.bin").read_bytes() == big
    assert (tmp_path / "copy" / "sub" / "small.txt").read_text() == "hello"


def test_push_of_an_unlicensed_public_repo_says_it_is_not_released(served: Served, tmp_path: Path) -> None:
    folder = tmp_path / "draft"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    args = ["hub", "push", str(folder), "--repo", "acme/cli-draft", "--public"]
    result = CliRunner().invoke(app, [*args, "--endpoint", served.endpoint, "--token", served.orgs.provider])
    assert result.exit_code == 0, result.output
    assert "acme/cli-draft is published, not released: no licence" in result.stderr
