"""Render generated documents as Markdown, JSON or PDF (fpdf2, core fonts)."""

from __future__ import annotations

import json

from valuechain.compliance.documentation import Document
from valuechain.core.errors import ValidationError

FORMATS = ("md", "json", "pdf")
MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}


def render(doc: Document, fmt: str) -> bytes:
    """The document in ``md``, ``json`` or ``pdf``."""
    if fmt == "md":
        return to_markdown(doc).encode("utf-8")
    if fmt == "json":
        return json.dumps(doc.as_dict(), indent=2, ensure_ascii=False).encode("utf-8")
    if fmt == "pdf":
        return to_pdf(doc)
    raise ValidationError(f"unknown format `{fmt}` (known: {', '.join(FORMATS)})")


def _cell(text: str | None) -> str:
    return "*not recorded*" if text is None else text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    """A Markdown document: header, one table per section, then the fields still missing."""
    lines = [
        f"# {doc.title}",
        "",
        f"- Model: `{doc.model}`",
        f"- Provider: {doc.provider or 'undetermined'}",
        f"- Scope: {doc.scope}",
        f"- As of: {doc.as_of.isoformat()}",
        f"- Rules: eu-ai-act {doc.regime_version}",
        "",
    ]
    lines += [f"> {note}" for note in doc.notes] + ([""] if doc.notes else [])
    for heading, fields in doc.sections:
        lines += [f"## {heading}", "", "| Ref | Item | Value |", "|---|---|---|"]
        lines += [f"| {f.ref} | {f.label} | {_cell(f.value)} |" for f in fields]
        lines.append("")
    lines += ["## Fields the registry cannot fill yet", ""]
    lines += [f"- {f.ref}: {f.label}" for f in doc.missing] or ["- none"]
    return "\n".join(lines) + "\n"


def _latin1(text: str) -> str:
    """Core PDF fonts are Latin-1; replace what they cannot show."""
    swaps = {"\u2013": "-", "\u2014": "-", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2192": "->"}
    for old, new in swaps.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: Document) -> bytes:
    """A simple PDF of the same content as the Markdown."""
    # fpdf (and PIL, which it imports) load only here: every CLI command would pay for them otherwise.
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(_latin1(f"{doc.title} - {doc.model}"))

    def para(text: str, *, size: int = 10, style: str = "") -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(0, size * 0.5, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    para(doc.title, size=15, style="B")
    para(
        f"Model: {doc.model}  |  Provider: {doc.provider or 'undetermined'}  |  Scope: {doc.scope}  |  "
        f"As of: {doc.as_of.isoformat()}  |  Rules: eu-ai-act {doc.regime_version}",
        size=9,
    )
    for note in doc.notes:
        para(note, size=9, style="I")
    for heading, fields in doc.sections:
        pdf.ln(2)
        para(heading, size=12, style="B")
        for f in fields:
            para(f"{f.ref} - {f.label}", size=9, style="B")
            para(f.value if f.value is not None else "(not recorded)", size=9)
    pdf.ln(2)
    para("Fields the registry cannot fill yet", size=12, style="B")
    for f in doc.missing:
        para(f"- {f.ref}: {f.label}", size=9)
    return bytes(pdf.output())
