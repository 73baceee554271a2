"""Channel neutrality, documentation (Annex XI, XII, summary in md/json/pdf) and the CycloneDX ML-BOM."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.compliance.builders import AS_OF, chain, model, open_model
from valuechain.compliance.bom import build_bom, validate_bom
from valuechain.compliance.documentation import build_document
from valuechain.compliance.facts import DerivationFact, facts_from_manifest
from valuechain.compliance.neutrality import neutrality
from valuechain.compliance.rendering import render
from valuechain.core.errors import NotFoundError, ValidationError
from valuechain.registry.check import load_manifest

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


@pytest.fixture
def facts():  # type: ignore[no-untyped-def]
    return facts_from_manifest(load_manifest(CHAIN))


# --- neutrality (Art. 53(2), 54(6): the only channel-dependent difference is the exemption) ---


def test_open_source_model_differs_only_by_the_exemption() -> None:
    report = neutrality(chain(open_model()), "uslab/open", as_of=AS_OF)
    assert {d.rule for d in report.identical} == {"A53.1.c", "A53.1.d"}
    differing = {d.rule: d for d in report.differing}
    assert set(differing) == {"A53.1.a", "A53.1.b", "A54.1"}
    assert "open_weights" not in differing["A53.1.a"].channels
    assert "Art. 53(2)" in differing["A53.1.a"].why


def test_proprietary_model_is_channel_neutral() -> None:
    report = neutrality(chain(model()), "lab/m", as_of=AS_OF)
    assert not report.differing
    assert {d.rule for d in report.identical} == {"A53.1.a", "A53.1.b", "A53.1.c", "A53.1.d"}
    assert "licence `proprietary`" in report.notes[0]


def test_systemic_risk_model_is_channel_neutral() -> None:
    report = neutrality(chain(open_model(training_compute_flop=3e25)), "uslab/open", as_of=AS_OF)
    assert not report.differing
    assert {"A55.1.a", "A52.1", "A54.1"} <= {d.rule for d in report.identical}


def test_neutrality_unknown_model() -> None:
    with pytest.raises(NotFoundError):
        neutrality(chain(model()), "lab/none")


# --- documentation ---------------------------------------------------------------------------------------


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


# --- CycloneDX 1.6 ML-BOM ----------------------------------------------------------------------------------


def test_bom_is_valid_cyclonedx_1_6_with_pedigree_and_properties(facts) -> None:  # type: ignore[no-untyped-def]
    bom = build_bom(facts, "tuner/ol-7b-legal", as_of=AS_OF)
    assert validate_bom(bom) == []
    comp = bom["metadata"]["component"]
    assert bom["specVersion"] == "1.6" and comp["type"] == "machine-learning-model"
    ancestor = comp["pedigree"]["ancestors"][0]
    assert ancestor["bom-ref"] == "model:openlab/ol-7b@1"
    assert ancestor["licenses"] == [{"license": {"id": "Apache-2.0"}}]  # canonical SPDX id
    assert comp["licenses"] == [{"license": {"name": "proprietary"}}]
    props = {(p["name"], p["value"]) for p in comp["properties"]}
    assert ("valuechain:lineage:modification_compute_flop", "5e+22") in props
    assert ("valuechain:model:training_compute_flop", "1.76e+23") in props
    card = {(p["name"], p["value"]) for p in comp["modelCard"]["properties"]}
    assert ("valuechain:eu-ai-act:provider", "tuner") in card


def test_bom_diamond_lineage_keeps_bom_refs_unique() -> None:
    facts = chain(
        model("lab/a"),
        model("lab/b"),
        model("lab/c"),
        model("lab/d", training_compute_flop=None),
        derivations=[
            DerivationFact("lab/a", "lab/b", "lab", "finetune", 1.0),
            DerivationFact("lab/a", "lab/c", "lab", "finetune", 1.0),
            DerivationFact("lab/b", "lab/d", "lab", "merge", 1.0),
            DerivationFact("lab/c", "lab/d", "lab", "merge", 1.0),
        ],
    )
    bom = build_bom(facts, "lab/d", as_of=AS_OF)
    assert validate_bom(bom) == []
    text = json.dumps(bom)
    assert text.count('"bom-ref": "model:lab/a@1"') == 1


def test_bom_validation_reports_schema_errors(facts) -> None:  # type: ignore[no-untyped-def]
    bom = build_bom(facts, "openlab/ol-7b", as_of=AS_OF)
    bom["metadata"]["component"]["modelCard"]["modelParameters"]["approach"] = {"type": "vibes"}
    errors = validate_bom(bom)
    assert errors and "vibes" in errors[0]


def test_bom_with_dataset_and_description_is_valid() -> None:
    facts = chain(replace(model(), description="A legal assistant", training_data_summary="EU case law"))
    assert validate_bom(build_bom(facts, "lab/m", as_of=AS_OF)) == []
