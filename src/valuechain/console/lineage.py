"""The lineage graph of a model page, drawn by Graphviz ``dot`` (Debian ``graphviz``) as SVG.

``dot`` runs as a subprocess with a timeout, in a worker thread (never on the event loop); the graph
source is built from the registry's typed lineage records, with every label quoted. Where ``dot`` is
missing (or fails) the page keeps its plain model-tree list, which is always shown.
"""

from __future__ import annotations

import shutil
import subprocess

from valuechain.registry.catalogue import ModelPage

DOT_TIMEOUT_S = 5.0


def dot_available() -> bool:
    return shutil.which("dot") is not None


def dot_source(page: ModelPage) -> str:
    """The graph: parents → this model → children, each edge labelled with relation and compute."""
    lines = [
        "digraph lineage {",
        '  rankdir=LR; bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", fontname="sans-serif",'
        " fontsize=11];",
        '  edge [fontname="sans-serif", fontsize=9];',
        f'  {_q(page.slug)} [fillcolor="#cde4ff", penwidth=2];',
    ]
    for edge in page.parents:
        label = _q(_edge_label(edge.relation, edge.compute_flop))
        lines.append(f"  {_q(edge.other)} -> {_q(page.slug)} [label={label}];")
    for edge in page.children:
        label = _q(_edge_label(edge.relation, edge.compute_flop))
        lines.append(f"  {_q(page.slug)} -> {_q(edge.other)} [label={label}];")
    lines.append("}")
    return "\n".join(lines)


def _edge_label(relation: str, compute: float | None) -> str:
    return relation + (f"\n{compute:.1e} FLOP" if compute else "")


def _q(text: str) -> str:
    """A DOT quoted string (backslashes and quotes escaped, no raw newlines)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_svg(page: ModelPage) -> bytes | None:
    """SVG bytes, or None when ``dot`` is missing, slow or fails (the model-tree list stands in)."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        done = subprocess.run(
            [dot, "-Tsvg"],
            input=dot_source(page).encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None
