"""Domain boundaries: the import-linter contracts in `.importlinter` hold, and they fail on a violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports over the package at ``tree/valuechain`` with the project's contracts."""
    config = tmp_path / "contracts.ini"
    shutil.copy(ROOT / ".importlinter", config)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package sources to break on purpose."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "valuechain", copy / "valuechain", ignore=shutil.ignore_patterns("__pycache__")
    )
    return copy


def test_contracts_hold(tree: Path, tmp_path: Path) -> None:
    result = _lint(tree, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("hub/browse.py", "from valuechain.registry.models import Model", "registry's tables"),
        ("gateway/records.py", "from valuechain.market.models import LedgerAccount", "market's tables"),
        ("core/clock.py", "from valuechain.registry import service", "Layers"),
        ("oversight/rules.py", "import valuechain.gateway.router", "Layers"),
    ],
)
def test_a_forbidden_import_fails(tree: Path, tmp_path: Path, module: str, line: str, contract: str) -> None:
    path = tree / "valuechain" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = _lint(tree, tmp_path)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout, result.stdout
