"""What-if: changed facts re-evaluated without touching the registry, shown as a diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compliance.builders import AS_OF
from valuechain.compliance.facts import facts_from_manifest
from valuechain.compliance.whatif import parse_edit, whatif
from valuechain.core.errors import NotFoundError, ValidationError
from valuechain.registry.check import load_manifest

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


@pytest.fixture
def facts():  # type: ignore[no-untyped-def]
    return facts_from_manifest(load_manifest(CHAIN))


def keys(obligations) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {o.key for o in obligations}


def test_closing_the_weights_loses_the_open_source_exemption(facts) -> None:  # type: ignore[no-untyped-def]
    diff = whatif(facts, ["models[openlab/ol-7b].weights_public=false"], as_of=AS_OF)
    assert keys(diff.added) == {("openlab", "openlab/ol-7b", r) for r in ("A53.1.a", "A53.1.b", "A54.1")}
    assert not diff.removed
    assert diff.models[0][1]["open_source_exempt"] is False
    assert diff.recomputed_models == 1  # the child's lineage inputs did not change (early cut-off)


def test_releasing_weights_openly_lifts_the_documentation_duties(facts) -> None:  # type: ignore[no-untyped-def]
    diff = whatif(
        facts,
        [
            "models[tuner/ol-7b-legal].licence=mit",
            "models[tuner/ol-7b-legal].monetised=[]",
            "models[tuner/ol-7b-legal].weights_public=true",
            "models[tuner/ol-7b-legal].architecture_public=true",
            "models[tuner/ol-7b-legal].usage_info_public=true",
        ],
        as_of=AS_OF,
    )
    assert keys(diff.removed) == {
        ("tuner", "tuner/ol-7b-legal", "A53.1.a"),
        ("tuner", "tuner/ol-7b-legal", "A53.1.b"),
    }


def test_fine_tune_with_1e23_flop_makes_a_new_provider(facts) -> None:  # type: ignore[no-untyped-def]
    diff = whatif(
        facts,
        [
            "+actors={id: newco, name: NewCo, country: CA}",
            "+models={id: newco/tuned, output_modalities: [text], eu_market: 2026-10-01}",
            "+derivations={parent: openlab/ol-7b, child: newco/tuned, by: newco, relation: finetune, "
            "compute_flop: 1.0e23}",
        ],
        as_of=AS_OF,
    )
    added = {(o.actor, o.rule): o.scope for o in diff.added}
    assert added[("newco", "A53.1.a")] == "modification"
    assert added[("newco", "A54.1")] == "full"  # Canada: outside the Union (GL §3.2.1)


def test_selling_in_the_eu_places_the_model(facts) -> None:  # type: ignore[no-untyped-def]
    facts2 = whatif(facts, ["models[openlab/ol-7b].eu_market=null"], as_of=AS_OF)
    assert facts2.models  # classification changed (placing date now unknown, still offered in the EU)
    diff = whatif(
        facts, ["+offers={model: tuner/ol-7b-legal, by: tuner, channel: marketplace, eu: true}"], as_of=AS_OF
    )
    assert diff.recomputed_models == 1


@pytest.mark.parametrize(
    ("expr", "error", "match"),
    [
        ("models[openlab/ol-7b].nonsense=1", ValidationError, "no field `nonsense`"),
        ("models[openlab/ol-7b].id=x/y", ValidationError, "identifies the record"),
        ("models[openlab/ol-7b].output_modalities=[smell]", ValidationError, "smell not one of"),
        ("models[openlab/ol-7b].weights_public=maybe", ValidationError, "expected true or false"),
        ("models[nobody/none].weights_public=true", NotFoundError, "no model `nobody/none`"),
        ("weights_public=true", ValidationError, "cannot parse change"),
        ("+offers={model: openlab/ol-7b}", ValidationError, "missing|required"),
    ],
)
def test_bad_changes_are_clear_errors(facts, expr: str, error: type, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        whatif(facts, [expr], as_of=AS_OF)


def test_edit_syntax() -> None:
    edit = parse_edit("derivations[openlab/ol-7b>tuner/ol-7b-legal].compute_flop=1e23")
    assert (edit.section, edit.key, edit.field, edit.value) == (
        "derivations",
        "openlab/ol-7b>tuner/ol-7b-legal",
        "compute_flop",
        1e23,
    )


def test_format_2_facts_can_be_tried(facts) -> None:  # type: ignore[no-untyped-def]
    """Art. 25(1)(a) and Art. 27(1), Annex III 5(b): what-if adds records with format-2 facts (a rebranded
    high-risk system; a credit-scoring point) and sets them on existing ones."""
    rebrand = (
        "+systems={id: tuner/hr, provider: tuner, deployers: [shop], annex_iii: [employment], "
        "eu_market: 2026-09-01, modified_from: shop/assistant, changes: [rebrand]}"
    )
    diff = whatif(facts, [rebrand], as_of=AS_OF)
    assert ("tuner", "tuner/hr", "A25.1.a") in keys(diff.added)
    diff = whatif(facts, ["systems[shop/assistant].annex_iii_points=[5(b)]"], as_of=AS_OF)
    assert ("shop", "shop/assistant", "A27") in keys(diff.added)
    with pytest.raises(ValidationError, match="5\\(z\\) not one of"):
        whatif(facts, ["systems[shop/assistant].annex_iii_points=[5(z)]"], as_of=AS_OF)
