"""The accountability records from the command line (issue 13): evidence fields, incidents, complaints."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

CHAIN = str(Path(__file__).parent / "data" / "readme_chain.yaml")


def test_record_fields_open_an_incident_and_list_reminders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Annex XI fields through the CLI; Art. 73(2) 15-day initial report listed as a reminder."""
    from valuechain.cli.main import app as root

    monkeypatch.setenv("VALUECHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VALUECHAIN_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(root, ["chain", "import", CHAIN]).exit_code == 0
    result = runner.invoke(
        root,
        ["evidence", "set-field", "openlab/ol-7b", "architecture=decoder-only transformer", "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"architecture": "decoder-only transformer"}
    result = runner.invoke(root, ["docs", "openlab/ol-7b", "--kind", "annex-xi", "--format", "json"])
    assert "decoder-only transformer" in result.stdout
    result = runner.invoke(root, ["evidence", "set-field", "openlab/ol-7b", "colour=blue"])
    assert result.exit_code == 1 and "FIELD one of" in result.output
    aware = date.today() - timedelta(days=3)
    result = runner.invoke(
        root,
        ["incident", "open", "shop/assistant", "--category", "health", "--aware-on", aware.isoformat(),
         "--description", "harm", "--as", "shop", "-f", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["due"] == (aware + timedelta(days=15)).isoformat()  # Art. 73(2)
    result = runner.invoke(
        root,
        ["incident", "open", "shop/assistant", "--category", "health", "--aware-on", "2999-01-01",
         "--description", "harm", "--as", "shop"],
    )  # fmt: skip
    assert result.exit_code == 1 and "in the future" in result.output
    result = runner.invoke(root, ["incident", "list", "--as", "shop", "-f", "json"])
    assert [i["category"] for i in json.loads(result.stdout)] == ["health"]
    result = runner.invoke(root, ["incident", "list", "--as", "tuner", "-f", "json"])
    assert json.loads(result.stdout) == []


def test_chain_import_records_the_documentation_fields_of_format_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Art. 53(1)(a), Annex XI 1(d): a format-2 manifest's documentation fields are recorded on import
    (into the accountability records); importing again changes nothing."""
    from valuechain.cli.main import app as root

    monkeypatch.setenv("VALUECHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VALUECHAIN_DATABASE_URL", raising=False)
    text = Path(CHAIN).read_text(encoding="utf-8").replace("valuechain: 1", "valuechain: 2", 1)
    text = text.replace(
        "    eu_business_users: 0\n",
        "    eu_business_users: 0\n    architecture: decoder-only transformer\n",
        1,
    )
    manifest = tmp_path / "chain.yaml"
    manifest.write_text(text, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(root, ["chain", "import", str(manifest), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["updated"] == {"documentation": 1}
    result = runner.invoke(root, ["docs", "openlab/ol-7b", "--kind", "annex-xi", "--format", "json"])
    assert "decoder-only transformer" in result.stdout
    again = json.loads(runner.invoke(root, ["chain", "import", str(manifest), "-f", "json"]).stdout)
    assert again["updated"] == {} and again["unchanged"]["documentation"] == 1
