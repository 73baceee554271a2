"""The CycloneDX 1.6 ML-BOM, validated against the official schema shipped with cyclonedx-python-lib."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.compliance.builders import AS_OF, chain, model
from valuechain.compliance.bom import build_bom, validate_bom
from valuechain.compliance.facts import DerivationFact, facts_from_manifest
from valuechain.registry.check import load_manifest

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


@pytest.fixture
def facts():  # type: ignore[no-untyped-def]
    return facts_from_manifest(load_manifest(CHAIN))


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
