"""Render generated documents as Markdown, JSON or PDF (fpdf2, core fonts).

The Markdown rendering is the exact text signed off (its sha256 is the document hash). The PDF shows that
hash on every page with the page number, an approval block (who signed off the exact document, when, its
sha256 — or "not signed off") and a glossary of the abbreviations used (issue 13 point 1).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from valuechain.compliance.documentation import Document
from valuechain.core.errors import ValidationError

FORMATS = ("md", "json", "pdf")
MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}


#: abbreviations a document may use, expanded in the PDF's glossary (only those that occur are listed)
GLOSSARY = {
    "AI Act": "Regulation (EU) 2024/1689 laying down harmonised rules on artificial intelligence",
    "AI Office": "the European AI Office of the Commission, which supervises general-purpose AI models",
    "Annex XI": "AI Act Annex XI: technical documentation a GPAI model provider keeps for the AI Office",
    "Annex XII": "AI Act Annex XII: information a GPAI model provider gives downstream providers",
    "API": "application programming interface (here: the hosted /v1 endpoint of a model)",
    "Art.": "Article (of the AI Act unless stated otherwise)",
    "CoP": "General-Purpose AI Code of Practice (July 2025)",
    "EU": "European Union",
    "FLOP": "floating-point operations (training compute, cumulative)",
    "GGUF": "the llama.cpp file format for model weights",
    "GL": "Commission Guidelines on the scope of the obligations for general-purpose AI models (July 2025)",
    "GPAI": "general-purpose AI (model)",
    "SPDX": "Software Package Data Exchange licence identifiers",
    "TDM": "text and data mining (Art. 4 Directive (EU) 2019/790)",
}


@dataclass(frozen=True, slots=True)
class Approval:
    """The latest sign-off of a document: ``current`` when it covers exactly this document."""

    signed_by: str
    signed_at: str
    sha256: str
    current: bool


def document_hash(doc: Document) -> str:
    """The sha256 of the exact document (its Markdown rendering): what a sign-off covers."""
    return hashlib.sha256(to_markdown(doc).encode("utf-8")).hexdigest()


def glossary(doc: Document) -> list[tuple[str, str]]:
    """The abbreviations that occur in the document, with their expansion."""
    text = to_markdown(doc)
    return [(k, v) for k, v in GLOSSARY.items() if re.search(rf"(?<![\w]){re.escape(k)}(?![\w])", text)]


def approval_lines(doc: Document, approval: Approval | None) -> list[str]:
    """The approval block: who signed off this exact document, when, its sha256; or why it is not."""
    digest = document_hash(doc)
    if approval is None:
        return ["Not signed off.", f"Document sha256: {digest}"]
    if not approval.current:
        return [
            "Not signed off: this version differs from the one signed off "
            f"by {approval.signed_by} on {approval.signed_at[:10]} (sha256 {approval.sha256}).",
            f"Document sha256: {digest}",
        ]
    return [
        f"Signed off by {approval.signed_by} on {approval.signed_at[:19].replace('T', ' ')} UTC.",
        f"Document sha256: {digest} (the sha256 of its Markdown rendering, which was signed).",
    ]


def render(doc: Document, fmt: str, *, approval: Approval | None = None) -> bytes:
    """The document in ``md``, ``json`` or ``pdf`` (the PDF with its approval block)."""
    if fmt == "md":
        return to_markdown(doc).encode("utf-8")
    if fmt == "json":
        return json.dumps(doc.as_dict(), indent=2, ensure_ascii=False).encode("utf-8")
    if fmt == "pdf":
        return to_pdf(doc, approval=approval)
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
    lines += [f"- {f.ref}: {f.label}" + (f" (`{f.source}`)" if f.source else "") for f in doc.missing] or [
        "- none"
    ]
    return "\n".join(lines) + "\n"


def _latin1(text: str) -> str:
    """Core PDF fonts are Latin-1; replace what they cannot show."""
    swaps = {"\u2013": "-", "\u2014": "-", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2192": "->"}
    for old, new in swaps.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: Document, *, approval: Approval | None = None) -> bytes:
    """A PDF of the same content as the Markdown, with page numbers, the document hash on every page, an
    approval block and a glossary of abbreviations."""
    # fpdf (and PIL, which it imports) load only here: every CLI command would pay for them otherwise.
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    digest = document_hash(doc)

    class _Pdf(FPDF):  # type: ignore[misc]
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=7)
            self.cell(0, 5, f"sha256 {digest}", align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    pdf = _Pdf(format="A4")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=18)
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
    if not doc.missing:
        para("none", size=9)
    pdf.ln(2)
    para("Approval", size=12, style="B")
    for line in approval_lines(doc, approval):
        para(line, size=9)
    terms = glossary(doc)
    if terms:
        pdf.ln(2)
        para("Abbreviations", size=12, style="B")
        for term, meaning in terms:
            para(f"{term}: {meaning}", size=9)
    return bytes(pdf.output())
