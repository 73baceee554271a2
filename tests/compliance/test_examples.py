"""Manifest examples in the README and docs/compliance.md evaluate to their documented output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from valuechain.compliance.engine import evaluate
from valuechain.compliance.facts import facts_from_manifest
from valuechain.registry.check import ManifestError, load_manifest, parse_manifest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def examples(path: Path) -> list[tuple[str, str | None]]:
    """(manifest, documented output or None) for each ``valuechain: 1|2`` YAML block of a Markdown file."""
    if not path.is_file():
        return []
    blocks = [(lang, body) for lang, body in FENCE.findall(path.read_text(encoding="utf-8"))]
    found = []
    for i, (lang, body) in enumerate(blocks):
        if lang in ("yaml", "yml") and re.search(r"^valuechain: [12]\b", body, re.M):
            nxt = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            found.append((body, nxt[1] if nxt[0] == "json" and '"regime"' in nxt[1] else None))
    return found


DOCUMENTED = [
    (f"{p.name}#{i}", m, o)
    for p in (ROOT / "README.md", ROOT / "docs" / "compliance.md")
    for i, (m, o) in enumerate(examples(p))
]


def test_compliance_docs_have_a_worked_example() -> None:
    assert any(o is not None for name, _, o in DOCUMENTED if name.startswith("compliance.md"))


@pytest.mark.parametrize(("name", "manifest", "output"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_example_evaluates_to_documented_output(name: str, manifest: str, output: str | None) -> None:
    try:
        parsed = parse_manifest(manifest, source=name)
    except ManifestError:  # reported with line and field, never guessed
        if output is None:
            pytest.skip(f"{name}: a format excerpt, not a complete chain")
        raise
    result = evaluate(facts_from_manifest(parsed)).as_dict()
    if output is not None:
        assert result == json.loads(output)


MARKER = re.compile(r"<!-- evaluated: (\S+) -->\s*```json\n(.*?)```", re.S)
EVALUATED = MARKER.findall((ROOT / "docs" / "compliance.md").read_text(encoding="utf-8"))


def test_the_readme_complete_example_is_documented() -> None:
    assert "docs/examples/chain.yaml" in {path for path, _ in EVALUATED}


@pytest.mark.parametrize(("path", "output"), EVALUATED, ids=[p for p, _ in EVALUATED])
def test_evaluated_file_matches_documented_output(path: str, output: str) -> None:
    result = evaluate(facts_from_manifest(load_manifest(ROOT / path))).as_dict()
    assert result == json.loads(output)


def test_the_format_2_example_gives_the_duties_it_names() -> None:
    """Art. 25(1)(a), 25(2), Art. 27(1) with Annex III point 5(b): docs/compliance.md's format-2 example."""
    [manifest] = [m for name, m, _ in DOCUMENTED if name.startswith("compliance.md") and "valuechain: 2" in m]
    result = evaluate(facts_from_manifest(parse_manifest(manifest)))
    assert {o.key for o in result.obligations} == {
        ("bank", "bank/scoring", "A25.1.a"),
        ("bank", "bank/scoring", "A16"),
        ("bank", "bank/scoring", "A26"),
        ("bank", "bank/scoring", "A27"),
        ("vendor", "vendor/scoring", "A16"),
        ("vendor", "bank/scoring", "A25.2"),
    }
