"""Documents: Annex XI, Annex XII and the training-content summary in Markdown, JSON and PDF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.compliance.builders import AS_OF, chain, model
from valuechain.compliance.documentation import build_document
from valuechain.compliance.facts import facts_from_manifest
from valuechain.compliance.rendering import render
from valuechain.core.errors import ValidationError
from valuechain.registry.check import load_manifest

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


@pytest.fixture
def facts():  # type: ignore[no-untyped-def]
    return facts_from_manifest(load_manifest(CHAIN))


@pytest.mark.parametrize("kind", ["annex-xi", "annex-xii", "summary"])
def test_documents_render_in_every_format_and_list_missing_fields(facts, kind: str) -> None:  # type: ignore[no-untyped-def]
    doc = build_document(facts, "openlab/ol-7b", kind, as_of=AS_OF)
    assert doc.missing and all(f.value is None for f in doc.missing)
    md = render(doc, "md").decode()
    assert "## Fields the registry cannot fill yet" in md
    data = json.loads(render(doc, "json"))
    assert data["kind"] == kind and len(data["missing"]) == len(doc.missing)
    assert render(doc, "pdf").startswith(b"%PDF-")


def test_annex_xi_fills_what_the_registry_knows(facts) -> None:  # type: ignore[no-untyped-def]
    doc = build_document(facts, "openlab/ol-7b", "annex-xi", as_of=AS_OF)
    values = {(f.ref, f.label): f.value for _, fields in doc.sections for f in fields}
    assert values[("XI 1(d)", "Number of parameters")] == "7e09"
    assert values[("XI 2(d)", "Computational resources used for training")] == "1.26e23 FLOP"
    assert values[("XI 1(f)", "Licence")] == "apache-2.0"
    assert values[("MDF 1", "Legal name of the provider")] == "Open Lab Inc"
    assert "Open-source exemption applies" in doc.notes[0]


def test_modifier_documentation_is_limited_to_the_modification(facts) -> None:  # type: ignore[no-untyped-def]
    doc = build_document(facts, "tuner/ol-7b-legal", "annex-xii", as_of=AS_OF)
    assert doc.scope == "modification" and doc.provider == "tuner"
    assert doc.sections[-1][0].startswith("Modification")
    assert "recital 109" in render(doc, "md").decode()


def test_systemic_risk_annex_xi_has_section_2_extras() -> None:
    doc = build_document(chain(model(training_compute_flop=2e25)), "lab/m", "annex-xi", as_of=AS_OF)
    assert any("Systemic-risk" in heading for heading, _ in doc.sections)


def test_pdf_survives_non_latin_text() -> None:
    facts = chain(model(description="Modèle → 中文 — test"))
    assert render(build_document(facts, "lab/m", "annex-xi", as_of=AS_OF), "pdf").startswith(b"%PDF-")


def test_unknown_kind_and_format(facts) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="unknown document kind"):
        build_document(facts, "openlab/ol-7b", "annex-ix")
    with pytest.raises(ValidationError, match="unknown format"):
        render(build_document(facts, "openlab/ol-7b", "summary"), "docx")
