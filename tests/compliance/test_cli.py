"""The accountability commands through a small Typer app built with ``register`` (manifest files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from valuechain.cli.obligations import register
from valuechain.compliance.bom import validate_bom

CHAIN = str(Path(__file__).parent / "data" / "readme_chain.yaml")
EXAMPLE = str(Path(__file__).parents[2] / "docs" / "examples" / "chain.yaml")


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def invoke(app: typer.Typer, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_obligations_json(app: typer.Typer) -> None:
    result = invoke(app, "obligations", "--chain", CHAIN, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["regime"] == "eu-ai-act" and data["as_of"] == "2026-11-28"
    assert {(o["actor"], o["rule"]) for o in data["obligations"]} >= {("tuner", "A53.1.a"), ("shop", "A50.1")}


def test_obligations_human_groups_by_actor_and_explains(app: typer.Typer) -> None:
    result = invoke(app, "obligations", "--chain", CHAIN)
    assert result.exit_code == 0, result.output
    assert "tuner - 4 obligations" in result.stdout
    assert "must publish a sufficiently detailed summary" in result.stdout


def test_obligations_filters_and_as_of(app: typer.Typer) -> None:
    result = invoke(
        app, "obligations", "--chain", CHAIN, "-f", "json", "--rule", "A50.1", "--as-of", "2026-08-01"
    )
    data = json.loads(result.stdout)
    assert [(o["rule"], o["status"]) for o in data["obligations"]] == [("A50.1", "not yet applicable")]
    result = invoke(app, "obligations", "--chain", CHAIN, "-f", "json", "--actor", "openlab")
    assert {o["actor"] for o in json.loads(result.stdout)["obligations"]} == {"openlab"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--regime", "ccpa"), "unknown regime `ccpa`"),
        (("--rule", "A99"), "unknown rule id `A99`"),
        (("--as-of", "tomorrow"), "not a date"),
    ],
)
def test_obligations_errors_exit_1_on_stderr(app: typer.Typer, args: tuple[str, ...], message: str) -> None:
    result = invoke(app, "obligations", "--chain", CHAIN, *args)
    assert result.exit_code == 1
    assert message in result.stderr and not result.stdout


def test_invalid_manifest_is_reported(app: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("valuechain: 1\nmodels:\n  - {id: nobody/m}\n")
    result = invoke(app, "obligations", "--chain", str(bad))
    assert result.exit_code == 1 and "unknown actor `nobody`" in result.stderr


def test_whatif_prints_the_difference(app: typer.Typer) -> None:
    result = invoke(app, "whatif", "--chain", CHAIN, "--set", "models[openlab/ol-7b].weights_public=false")
    assert result.exit_code == 0, result.output
    assert "+ A53.1.a" in result.stdout and "open_source_exempt: True -> False" in result.stdout
    result = invoke(
        app, "whatif", "--chain", CHAIN, "-f", "json", "--set", "models[openlab/ol-7b].eu_excluded=true"
    )
    data = json.loads(result.stdout)
    assert {o["rule"] for o in data["removed"]} == {"A53.1.c", "A53.1.d"}


def test_neutrality(app: typer.Typer) -> None:
    result = invoke(app, "neutrality", "openlab/ol-7b", "--chain", CHAIN, "-f", "json")
    assert result.exit_code == 0, result.output
    assert {d["rule"] for d in json.loads(result.stdout)["differing"]} == {"A53.1.a", "A53.1.b", "A54.1"}
    human = invoke(app, "neutrality", "openlab/ol-7b", "--chain", CHAIN)
    assert "Differ only because of an exemption" in human.stdout


def test_docs_to_files(app: typer.Typer, tmp_path: Path) -> None:
    for kind, fmt in (("annex-xi", "pdf"), ("annex-xii", "md"), ("summary", "json")):
        target = tmp_path / f"{kind}.{fmt}"
        result = invoke(
            app,
            "docs",
            "tuner/ol-7b-legal",
            "--chain",
            CHAIN,
            "--kind",
            kind,
            "--format",
            fmt,
            "--out",
            str(target),
        )
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 100 and "not yet recorded" in result.stderr
    assert (tmp_path / "annex-xi.pdf").read_bytes().startswith(b"%PDF-")


def test_docs_markdown_to_stdout(app: typer.Typer) -> None:
    result = invoke(app, "docs", "openlab/ol-7b", "--chain", CHAIN, "--kind", "annex-xii")
    assert result.stdout.startswith("# Information for downstream providers")


def test_bom(app: typer.Typer) -> None:
    result = invoke(app, "bom", "tuner/ol-7b-legal", "--chain", CHAIN)
    assert result.exit_code == 0, result.output
    assert validate_bom(json.loads(result.stdout)) == []
    missing = invoke(app, "bom", "nobody/none", "--chain", CHAIN)
    assert missing.exit_code == 1 and "unknown model" in missing.stderr


def test_registry_backed_commands_through_the_root_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --chain the commands read the registry; a generated document is not evidence (issue 13)."""
    from valuechain.cli.main import app as root

    monkeypatch.setenv("VALUECHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VALUECHAIN_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(root, ["chain", "import", CHAIN]).exit_code == 0
    result = runner.invoke(root, ["obligations", "-f", "json", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    assert {o["actor"] for o in json.loads(result.stdout)["obligations"]} == {"openlab", "tuner", "shop"}
    target = tmp_path / "xi.md"
    result = runner.invoke(root, ["docs", "tuner/ol-7b-legal", "--kind", "annex-xi", "--out", str(target)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(root, ["obligations", "-f", "json", "--rule", "A53.1.a"])
    statuses = {o["subject"]: o["status"] for o in json.loads(result.stdout)["obligations"]}
    assert statuses["tuner/ol-7b-legal"] in ("open", "overdue")
    result = runner.invoke(
        root, ["whatif", "-f", "json", "--set", "models[openlab/ol-7b].weights_public=false"]
    )
    assert {o["rule"] for o in json.loads(result.stdout)["added"]} == {"A53.1.a", "A53.1.b", "A54.1"}
    result = runner.invoke(root, ["bom", "tuner/ol-7b-legal"])
    assert validate_bom(json.loads(result.stdout)) == []
    result = runner.invoke(root, ["neutrality", "openlab/ol-7b", "-f", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["model"] == "openlab/ol-7b"


def test_output_people_act_on(app: typer.Typer) -> None:
    """Issue 13 point 5 (Art. 53(1)(a)-(d), GL para 60 for the modifier): per actor what, by when, short
    reasons (details on demand), missing evidence."""
    result = invoke(app, "obligations", "--chain", CHAIN, "--actor", "tuner")
    assert result.exit_code == 0, result.output
    data = json.loads(invoke(app, "obligations", "--chain", CHAIN, "--actor", "tuner", "-f", "json").stdout)
    assert [m["id"] for m in data["models"]] == ["tuner/ol-7b-legal"]  # --actor filters the models too
    reasons = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("because:")]
    assert reasons and all(len(r) <= len("because: ") + 120 for r in reasons)
    assert "missing evidence: a signed-off annex-xi;" in result.stdout
    full = invoke(app, "obligations", "--chain", CHAIN, "--actor", "tuner", "--details")
    assert len(full.stdout) >= len(result.stdout)


def test_whatif_shows_the_changed_reasons(app: typer.Typer) -> None:
    """Issue 13 point 5 (GL paras 60-61): a changed obligation lists the reasons removed (-) and added (+)."""
    result = invoke(
        app,
        "whatif",
        "--chain",
        CHAIN,
        "--set",
        "derivations[openlab/ol-7b>tuner/ol-7b-legal].compute_flop=6e22",
    )
    assert result.exit_code == 0, result.output
    assert "reasons changed" in result.stdout
    assert "- tuner modified openlab/ol-7b (finetune) with 5e22 FLOP" in result.stdout
    assert "+ tuner modified openlab/ol-7b (finetune) with 6e22 FLOP" in result.stdout


def test_missing_evidence_names_the_fields_still_to_record(app: typer.Typer) -> None:
    """Art. 53(1)(a)-(b), (d): a document obligation needs every field before its sign-off; the hint says how
    many are missing and where to see them, and an obligation already in force says so."""
    result = invoke(app, "obligations", "--chain", CHAIN, "--actor", "tuner")
    assert "A53.1.a Art. 53(1)(a), Annex XI - open, applies since 2026-03-01" in result.stdout
    hint = next(line.strip() for line in result.stdout.splitlines() if "a signed-off annex-xi" in line)
    assert hint.startswith("missing evidence: a signed-off annex-xi; first record its ")
    assert hint.endswith("(valuechain docs tuner/ol-7b-legal --kind annex-xi lists them)")
    assert "missing evidence: valuechain evidence record tuner/ol-7b-legal A53.1.c" in result.stdout


def test_whatif_shows_a_change_past_the_shortened_reason(app: typer.Typer) -> None:
    """Art. 53(2), GL §4.2.3: publishing the weights changes the end of a long open-source reason; the
    shortened - and + lines still differ, around the change, instead of repeating the same first words."""
    result = invoke(
        app,
        "whatif",
        "--chain",
        CHAIN,
        "--set",
        "models[tuner/ol-7b-legal].weights_public=true",
        "--actor",
        "tuner",
    )
    assert result.exit_code == 0, result.output
    gone = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("- ")]
    came = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("+ ")]
    assert gone and came and set(gone).isdisjoint(came)
    assert any("weights, architecture, usage information not public" in line for line in gone)
    assert any(
        "architecture, usage information not public" in line and "weights" not in line for line in came
    )
    assert all(len(line) <= 2 + 120 for line in gone + came)
    assert " shop " not in result.stdout  # --actor keeps tuner's duties only


def test_short_change_keeps_the_difference_in_view() -> None:
    from valuechain.cli.obligations import short, short_change

    head = "open-source exemption not available: " + "a condition that is long enough to fill the line; " * 3
    old, new = head + "weights not public", head + "architecture not public"
    assert short(old) == short(new)  # what `whatif` printed before issue 13's fix
    assert short_change(old, [new]) != short_change(new, [old])
    assert short_change(old, [new]).endswith("weights not public")
    assert short_change("short", ["other"]) == "short"


def test_a_model_without_a_provider_says_why_in_the_table(app: typer.Typer) -> None:
    """GL paras 60-61: a modification below one third makes no new provider; the table says so (issue 13:
    the reason was only in the JSON), not the placing date."""
    result = CliRunner().invoke(app, ["obligations", "--chain", EXAMPLE], env={"COLUMNS": "200"})
    row = next(line for line in result.stdout.splitlines() if line.startswith("shop/helper"))
    assert "none: does not become a provider; the original provider's obligations stay" in row, row
