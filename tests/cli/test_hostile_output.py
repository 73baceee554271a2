"""Stored data with terminal escapes and newlines is printed escaped by every listing and message (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app

# Clears the screen, retitles the window and starts a fake line; "[bold]" would be Rich markup.
EVIL = "Evil\x1b[2J\x1b]0;pwned\x07\nFAKE-LINE [bold]x[/bold]\r\u202e"
YAML_EVIL = json.dumps(EVIL)  # a JSON string is a YAML double-quoted scalar

CHAIN = f"""
valuechain: 1
actors:
  - {{id: alpha, name: {YAML_EVIL}, country: FR}}
  - {{id: beta, name: {YAML_EVIL}, country: DE}}
models:
  - {{id: beta/base, public: true, output_modalities: [text], released_by: alpha}}
offers:
  - {{model: beta/base, by: beta, channel: api, brand: {YAML_EVIL}}}
systems:
  - {{id: alpha/screening, provider: alpha, deployers: [beta], annex_iii: [employment], eu_market: 2026-09-01}}
"""


def _assert_inert(output: str, command: tuple[str, ...]) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output, command
    assert "\u202e" not in output, command
    assert not any(line.lstrip().startswith("FAKE-LINE") for line in output.splitlines()), command


@pytest.fixture
def hostile(runner: CliRunner, tmp_path: Path) -> CliRunner:
    chain = tmp_path / "chain.yaml"
    chain.write_text(CHAIN, encoding="utf-8")
    run(runner, "chain", "import", str(chain))
    run(runner, "key", "create", "--org", "alpha", "--name", EVIL)
    run(runner, "agreement", "create", "--as", "beta", "--agent", "alpha", "--model", "beta/base",
        "--channel", "api")  # fmt: skip
    return runner


COMMANDS = [
    ("org", "list"),
    ("org", "show", "alpha"),
    ("key", "list", "--org", "alpha"),
    ("model", "list"),
    ("model", "show", "beta/base"),
    ("model", "lineage", "beta/base"),
    ("offer", "list"),
    ("system", "list"),
    ("claim", "list"),
    ("agreement", "list", "--as", "beta"),
    ("audit", "list"),
    ("obligations", "--as-of", "2026-11-28"),
    ("obligations", "--as-of", "2026-11-28", "--format", "json"),
    ("chain", "export"),
    ("bom", "beta/base"),
    ("docs", "beta/base"),
    ("docs", "beta/base", "--format", "json"),
    ("neutrality", "beta/base"),
]


def test_listings_and_messages_escape_stored_control_characters(hostile: CliRunner) -> None:
    for command in COMMANDS:
        result = hostile.invoke(app, list(command), catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        _assert_inert(result.stdout, command)
        _assert_inert(result.stderr, command)
    claims = json.loads(run(hostile, "claim", "list", "--format", "json"))
    for claim in claims:  # a claim's note names organisations
        result = hostile.invoke(app, ["claim", "show", claim["id"]], catch_exceptions=False)
        _assert_inert(result.stdout + result.stderr, ("claim", "show"))
    assert "\\e[2J" in hostile.invoke(app, ["org", "list"]).stdout  # shown, escaped
