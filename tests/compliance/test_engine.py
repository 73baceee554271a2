"""Engine behaviour: errors, evidence, dates, and incremental re-evaluation equal to a full one."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest

from tests.compliance.builders import ACTORS, AS_OF, chain, model, open_model, run, system
from valuechain.compliance.engine import Change, Engine, evaluate
from valuechain.compliance.facts import ChainFacts, DerivationFact, ModelFact, OfferFact
from valuechain.compliance.pack import load_regime
from valuechain.core.errors import NotFoundError, ValidationError


def test_unknown_regime_is_a_clear_error() -> None:
    with pytest.raises(NotFoundError, match="unknown regime `gdpr`"):
        evaluate(chain(model()), regime="gdpr")


def test_unknown_regime_version_is_a_clear_error() -> None:
    with pytest.raises(NotFoundError, match="unknown version"):
        evaluate(chain(model()), regime="eu-ai-act@0.0")


def test_regime_with_its_own_version_loads() -> None:
    version = load_regime().pack.version
    assert evaluate(chain(model()), regime=f"eu-ai-act@{version}").regime_version == version


def test_unknown_rule_id_is_a_clear_error() -> None:
    with pytest.raises(NotFoundError, match="unknown rule id `A99`"):
        evaluate(chain(model()), rules=["A99"])
    with pytest.raises(NotFoundError, match="unknown rule id"):
        evaluate(chain(model()), evidence={("lab", "lab/m", "A53.9"): "done"})


def test_rule_filter_keeps_only_those_rules() -> None:
    result = evaluate(chain(model()), rules=["A53.1.c"], as_of=AS_OF)
    assert {o.rule for o in result.obligations} == {"A53.1.c"}


def test_evidence_sets_the_status() -> None:
    evidence = {("lab", "lab/m", "A53.1.a"): "documentation generated at 2026-11-01 10:00 UTC"}
    _, obligations, _ = run(chain(model()), evidence=evidence)
    assert obligations[("lab", "lab/m", "A53.1.a")].status == evidence[("lab", "lab/m", "A53.1.a")]
    assert obligations[("lab", "lab/m", "A53.1.b")].status == "open"


def test_output_shape_is_exactly_the_issue_shape() -> None:
    data = evaluate(chain(model()), as_of=AS_OF).as_dict()
    assert list(data) == ["regime", "regime_version", "as_of", "models", "obligations"]
    assert list(data["models"][0]) == [
        "id",
        "gpai",
        "systemic_risk",
        "open_source_exempt",
        "provider",
        "because",
    ]
    assert list(data["obligations"][0]) == [
        "actor",
        "subject",
        "rule",
        "citation",
        "scope",
        "applies_from",
        "due",
        "status",
        "because",
    ]
    assert data["regime"] == "eu-ai-act" and data["as_of"] == "2026-11-28"


def test_lineage_cycle_in_facts_is_reported() -> None:
    facts = chain(
        model("lab/a"),
        model("lab/b"),
        derivations=[
            DerivationFact("lab/a", "lab/b", "lab", "finetune", 1.0),
            DerivationFact("lab/b", "lab/a", "lab", "finetune", 1.0),
        ],
    )
    with pytest.raises(ValidationError, match="lineage cycle"):
        evaluate(facts)


def test_whatif_derivation_closing_a_cycle_is_refused() -> None:
    engine = Engine(
        chain(
            model("lab/a"),
            model("lab/b"),
            derivations=[DerivationFact("lab/a", "lab/b", "lab", "finetune", 1.0)],
        ),
        as_of=AS_OF,
    )
    engine.evaluate()
    with pytest.raises(ValidationError, match="cycle"):
        engine.update(Change(derivations=[DerivationFact("lab/b", "lab/a", "lab", "finetune", 1.0)]))


def random_chain(seed: int, n: int = 300) -> ChainFacts:
    rnd = random.Random(seed)
    owners = [a.id for a in ACTORS]
    models: list[ModelFact] = []
    derivations: list[DerivationFact] = []
    for i in range(n):
        owner = rnd.choice(owners)
        maker = open_model if rnd.random() < 0.3 else model
        compute = rnd.choice([None, 5e22, 2e23, 3e24, 2e25])
        models.append(
            maker(
                f"{owner}/m{i}",
                training_compute_flop=compute,
                gpai=rnd.choice([None, None, True]),
                eu_excluded=rnd.random() < 0.05,
                eu_market=rnd.choice([None, date(2025, 1, 1), date(2026, 1, 1)]),
            )
        )
        if i > 10 and rnd.random() < 0.8:
            parent = models[rnd.randrange(i)]
            derivations.append(
                DerivationFact(
                    parent.id,
                    models[i].id,
                    owner,
                    "finetune",
                    rnd.choice([None, 1e21, 1e23, 4e24]),
                    on_behalf_of=rnd.choice([None, None, parent.releaser]),
                )
            )
    offers = [OfferFact(m.id, rnd.choice(owners), "api") for m in rnd.sample(models, n // 10)]
    systems = [
        system(f"{owner}/s{i}", models=(rnd.choice(models).id,), annex_iii=frozenset({"employment"}))
        for i, owner in enumerate(rnd.choices(["shop", "vendor", "bank"], k=n // 20))
    ]
    return ChainFacts.build(
        actors=ACTORS, models=models, derivations=derivations, offers=offers, systems=systems
    )


@pytest.mark.parametrize("seed", range(6))
def test_incremental_update_equals_full_evaluation(seed: int) -> None:
    facts = random_chain(seed)
    rnd = random.Random(seed + 100)
    engine = Engine(facts, as_of=AS_OF)
    engine.evaluate()
    models = dict(facts.models)
    for _ in range(5):
        target = rnd.choice(list(models))
        changed = replace(
            models[target],
            training_compute_flop=rnd.choice([None, 1e22, 5e23, 2e25]),
            weights_public=not models[target].weights_public,
        )
        models[target] = changed
        engine.update(Change(models=[changed]))
    offer = OfferFact(rnd.choice(list(models)), "reseller", "white_label")
    engine.update(Change(offers=[offer]))
    actors = dict(facts.actors)
    actors["lab"] = replace(actors["lab"], country="US")
    actors["bank"] = replace(actors["bank"], public_body=True)
    engine.update(Change(actors=[actors["lab"], actors["bank"]]))
    systems = dict(facts.systems)
    first = next(iter(systems.values()))
    systems[first.id] = replace(first, models=(rnd.choice(list(models)),), deployers=("city",))
    engine.update(Change(systems=[systems[first.id]]))
    full = evaluate(
        replace(facts, models=models, offers=(*facts.offers, offer), actors=actors, systems=systems),
        as_of=AS_OF,
    )
    assert engine.evaluation().as_dict() == full.as_dict()


def test_incremental_update_stops_where_nothing_changes_for_children() -> None:
    parent = model("lab/root")
    kids = [model(f"tuner/c{i}", training_compute_flop=None) for i in range(50)]
    facts = chain(
        parent, *kids, derivations=[DerivationFact("lab/root", k.id, "tuner", "finetune", 1e21) for k in kids]
    )
    engine = Engine(facts, as_of=AS_OF)
    engine.evaluate()
    diff = engine.update(Change(models=[replace(parent, description="now documented")]))
    assert diff.recomputed_models == 1 and not diff.added and not diff.removed
    diff = engine.update(Change(models=[replace(parent, training_compute_flop=2e25)]))
    assert diff.recomputed_models == 51
    assert {o.rule for o in diff.added} >= {"A55.1.a", "A52.1"}
