"""``valuechain key``: least privilege by default, whole ids in tables, the secret shown once."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.accounts.roles import ROLE_SCOPES, Role


@pytest.fixture
def acme(runner: CliRunner) -> CliRunner:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    return runner


def test_a_key_without_flags_is_a_member_key_with_member_scopes(acme: CliRunner) -> None:
    created = json.loads(run(acme, "key", "create", "--org", "acme", "--format", "json"))
    assert created["role"] == "member"
    assert set(created["scopes"]) == {s.value for s in ROLE_SCOPES[Role.member]}
    admin = json.loads(run(acme, "key", "create", "--org", "acme", "--role", "admin", "--format", "json"))
    assert admin["role"] == "admin" and "keys:manage" in admin["scopes"]


def test_key_list_shows_whole_ids_at_80_columns(acme: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    ids = [
        json.loads(run(acme, "key", "create", "--org", "acme", "--name", f"laptop of a colleague {i}",
                       "--scope", "registry:read", "--scope", "inference", "--format", "json"))["id"]
        for i in range(2)
    ]  # fmt: skip
    listed = run(acme, "key", "list", "--org", "acme")
    assert all(key_id in listed for key_id in ids), listed
    assert "…" not in listed and max(map(len, listed.splitlines())) <= 80
    assert "never used" in listed
    revoked = run(acme, "key", "revoke", ids[0], "--org", "acme", "--format", "json")
    assert json.loads(revoked)["revoked_at"] is not None
    assert "UTC" in run(acme, "key", "list", "--org", "acme")


def test_names_with_terminal_escapes_are_printed_inert(acme: CliRunner) -> None:
    run(acme, "key", "create", "--org", "acme", "--name", "evil\x1b[2Jname")
    listed = run(acme, "key", "list", "--org", "acme")
    assert "\x1b" not in listed and "\\e[2J" in listed
