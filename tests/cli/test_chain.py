"""``valuechain chain check``: schema and reference problems in one pass."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.conftest import run

MANIFEST = """valuechain: 1
actors:
  - {id: lab, name: Lab, country: FR}
  - {id: broken, name: Broken, country: France}
models:
  - {id: lab/m, licence: mit, parameters: -5}
  - {id: lab/n, released_by: ghost}
  - {id: broken/x}
derivations:
  - {parent: lab/n, child: nowhere/y, by: lab, relation: finetune}
"""


def test_schema_and_reference_problems_are_reported_together(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(MANIFEST)
    result = json.loads(run(runner, "chain", "check", str(path), "--format", "json", code=1))
    problems = {(p["line"], p["path"]): p["message"] for p in result["problems"]}
    assert "ISO 3166-1" in problems[(4, "actors[1].country")]  # schema
    assert problems[(6, "models[0].parameters")].startswith("Input should be greater")  # schema
    assert problems[(7, "models[1].released_by")] == "unknown actor `ghost` (declare it under actors)"
    assert problems[(10, "derivations[0].child")] == "unknown model `nowhere/y` (declare it under models)"
    # Records that failed the schema still count as declared: no false "unknown" about them.
    assert not any("broken" in m or "lab/m" in m for m in problems.values())
    assert len(problems) == 4
