"""``valuechain org``: organisations and members, in tables and as JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.cli.conftest import run


def test_members_are_listed(runner: CliRunner) -> None:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    run(runner, "org", "add-member", "acme", "--email", "ada@example.org", "--role", "admin")
    members = json.loads(run(runner, "org", "members", "acme", "--format", "json"))
    assert [(m["email"], m["role"]) for m in members] == [("ada@example.org", "admin")]
    assert "ada@example.org" in run(runner, "org", "members", "acme")
    assert "UTC" in run(runner, "org", "show", "acme")
