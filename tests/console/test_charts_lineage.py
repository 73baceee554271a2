"""SVG charts with hover values, and the lineage graph by `dot` (or none: the model-tree list stands in)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from valuechain.console import charts, lineage
from valuechain.registry.catalogue import LineageEdge, ModelPage


def _page() -> ModelPage:
    edge = LineageEdge('ev"il/na\\me', "1", "finetune", 1e21, "acme", True)
    now = datetime.now(UTC)
    return ModelPage(
        "mdl_x", "acme/m", "acme", "org_x", "acme", None, "public", "mit", (), (), ("text",), None, None,
        [], [], [edge], [edge], [], now,
    )  # fmt: skip


def test_bars_carry_each_value_in_a_title() -> None:
    svg = charts.bars([("2026-11-01", 3), ("2026-11-02", 0.5)], label="tokens <per> day")
    assert svg.count("<rect") == 2
    assert "<title>2026-11-01: 3</title>" in svg and "<title>2026-11-02: 0.50</title>" in svg
    assert "tokens &lt;per&gt; day" in svg
    assert "<rect" not in charts.bars([], label="empty")


def test_dot_source_quotes_every_label() -> None:
    source = lineage.dot_source(_page())
    assert '"ev\\"il/na\\\\me" -> "acme/m"' in source and '"acme/m" -> "ev\\"il/na\\\\me"' in source


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz `dot`")
def test_dot_renders_svg() -> None:
    svg = lineage.render_svg(_page())
    assert svg is not None and b"<svg" in svg and b"finetune" in svg


def test_without_dot_there_is_no_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not lineage.dot_available()
    assert lineage.render_svg(_page()) is None


def test_line_chart_scales_points_and_titles_each() -> None:
    svg = charts.line([(1, 2.0), (2, 1.0), (3, 0.5)], label="training loss")
    assert svg.count("<circle") == 3 and "<polyline" in svg
    assert "step 1: 2.0000" in svg and "step 3: 0.5000" in svg
    assert 'points="28.0,28.0 ' in svg  # first step at the left, the largest loss at the top (y = PAD)
    empty = charts.line([], label="empty")
    assert "<polyline" not in empty and "<svg" in empty
