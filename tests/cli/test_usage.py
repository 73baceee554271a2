"""``valuechain usage report``: people read organisation slugs and key names; JSON keeps the ids too."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.core.clock import utcnow


def test_usage_report_shows_slugs_and_key_names(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    run(runner, "org", "create", "lab", "--name", "Lab", "--country", "DE")
    key = json.loads(run(runner, "key", "create", "--org", "acme", "--name", "ci", "--format", "json"))
    from valuechain.cli.context import database
    from valuechain.gateway.models import UsageRecord

    with database() as db, db.unit_of_work() as session:
        orgs = {o["slug"]: o["id"] for o in json.loads(run(runner, "org", "list", "--format", "json"))}
        session.add(
            UsageRecord(
                id="req_1", created_at=utcnow(), org_id=orgs["acme"], key_id=key["id"], provider_org_id=orgs["lab"],
                offer_id="off_1", version_id="ver_1", model="lab/m", endpoint="chat", status=200,
                prompt_tokens=10, completion_tokens=5, latency_ms=12.0, cost=1500, currency="EUR",
            )
        )  # fmt: skip
    rows = json.loads(run(runner, "usage", "report", "--format", "json"))
    assert rows[0]["org"] == orgs["acme"] and rows[0]["org_slug"] == "acme"
    assert rows[0]["key"] == key["id"] and rows[0]["key_name"] == f"ci ({key['prefix']})"
    monkeypatch.setenv("COLUMNS", "80")
    text = run(runner, "usage", "report")
    assert "acme" in text and f"ci ({key['prefix']})" in text
    assert "org_" not in text and "key_" not in text
