"""Sound three-valued evaluation (issue 13 point 3): the engine against an enumeration of completions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.compliance.builders import AS_OF, chain, model, run
from valuechain.compliance.engine import Engine
from valuechain.compliance.facts import ChainFacts, DerivationFact

# A grid denser than any threshold spacing: 10^k x {1.1, 2, 5} (GL para 17, 60-61, Art. 51(2) all fall between).
# Plus values just either side of each threshold and its third, where sums with small known computes cross.
_EDGES = [t * f for t in (1e23, 1e25, 1e23 / 3, 1e25 / 3) for f in (0.9999, 1.0001)]
GRID = sorted({m * 10.0**k for k in range(20, 27) for m in (1.1, 2.0, 5.0)} | set(_EDGES))
KNOWN = [None, 1e22, 5e22, 2e23, 2e24, 4e24, 9e24, 2e25]


def kleene(facts: ChainFacts) -> dict[tuple[str, str, str], str]:
    engine = Engine(facts, as_of=AS_OF, sound=False)
    return {o.key: o.status for o in engine.evaluate().obligations if o.subject in facts.models}


def brute_force(facts: ChainFacts) -> dict[tuple[str, str, str], set[str]]:
    """For each obligation key, the set of outcomes over the grid: "applies", "undecided", "absent"."""
    children = {d.child for d in facts.derivations}
    roots = [m for m in facts.models.values() if m.training_compute_flop is None and m.id not in children]
    edges = [d for d in facts.derivations if d.compute_flop is None]
    runs = []
    for values in itertools.product(GRID, repeat=len(roots) + len(edges)):
        ms = dict(facts.models)
        for m, v in zip(roots, values[: len(roots)], strict=True):
            ms[m.id] = replace(m, training_compute_flop=v, compute_disclosed=False)
        ds = list(facts.derivations)
        for d, v in zip(edges, values[len(roots) :], strict=True):
            ds[ds.index(d)] = replace(d, compute_flop=v)
        done = ChainFacts.build(actors=list(facts.actors.values()), models=list(ms.values()), derivations=ds)
        runs.append(kleene(done))
    keys = {k for r in runs for k in r}
    return {
        k: {("undecided" if r[k] == "cannot decide" else "applies") if k in r else "absent" for r in runs}
        for k in keys
    }


@st.composite
def small_chains(draw: st.DrawFn) -> ChainFacts:
    """Two or three models in a line; some computes unknown; modifiers the provider or another actor."""
    n = draw(st.integers(2, 3))
    models = [model("lab/m0", training_compute_flop=draw(st.sampled_from(KNOWN)), gpai=True)]
    derivations = []
    for i in range(1, n):
        by = draw(st.sampled_from(["lab", "tuner"]))
        relation = draw(st.sampled_from(["finetune", "continued_pretraining", "distilled"]))
        models.append(model(f"{by}/m{i}", training_compute_flop=None, eu_market=date(2025, 10, 1)))
        derivations.append(
            DerivationFact(
                parent=models[i - 1].id,
                child=models[i].id,
                by=by,
                relation=relation,
                compute_flop=draw(st.sampled_from(KNOWN)),
            )
        )
    unknown = sum(m.training_compute_flop is None for m in models[:1]) + sum(
        d.compute_flop is None for d in derivations
    )
    if unknown > 2:  # keep the brute force small
        derivations[-1] = replace(derivations[-1], compute_flop=1e22)
    return chain(*models, derivations=derivations)


def disagreements(facts: ChainFacts, obligations: dict[tuple[str, str, str], Any]) -> list[str]:
    """Where the engine's model obligations differ from the brute-force enumeration of completions."""
    truth = brute_force(facts)
    found = []
    for key, outcomes in truth.items():
        listed = obligations.get(key)
        if outcomes == {"absent"} and listed is not None:
            found.append(f"{key} imposed by no completion yet listed")
        elif outcomes == {"applies"} and (listed is None or listed.status == "cannot decide"):
            found.append(f"{key} applies in every completion but is {listed.status if listed else 'dropped'}")
        elif len(outcomes) > 1 and listed is None:
            found.append(f"{key} imposed by some completions was dropped")
        elif len(outcomes) > 1 and listed.status != "cannot decide":
            found.append(f"{key} differs between completions but reads {listed.status}")
    found += [
        f"{k} listed but imposed by no completion"
        for k in obligations
        if k[1] in facts.models and k not in truth
    ]
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_chains())
def test_engine_agrees_with_every_completion(facts: ChainFacts) -> None:
    """Issue 13 point 3 (GL para 17, paras 60-61, Annex A.1; Art. 51(2)): applies iff all completions apply;
    cannot decide iff some; nothing iff none."""
    _, obligations, _ = run(facts)
    shown = [(m.id, m.training_compute_flop) for m in facts.models.values()]
    shown += [(d.parent, d.child, d.by, d.relation, d.compute_flop) for d in facts.derivations]
    note(repr(shown))
    assert disagreements(facts, obligations) == []


# The three held-out kinds of issue 13 on which Kleene logic alone is unsound; the check must catch each.
HELD_OUT = {
    "distillation": chain(  # GL Annex A.1: the teacher's (unknown) compute is left out of the student's
        model("lab/teacher", training_compute_flop=None, gpai=True),
        model("tuner/student", training_compute_flop=None),
        derivations=[DerivationFact("lab/teacher", "tuner/student", "tuner", "distilled", 2e24)],
    ),
    "own continued pretraining": chain(  # GL §2.2: the provider's own; may cross 10^25 FLOP
        model("lab/m", training_compute_flop=9e24),
        model("lab/m2", training_compute_flop=None),
        derivations=[DerivationFact("lab/m", "lab/m2", "lab", "continued_pretraining", None)],
    ),
    "unknown modification compute": chain(  # GL paras 60-61: the modifier may or may not become provider
        model("lab/m", training_compute_flop=3e24),
        model("tuner/m2", training_compute_flop=None),
        derivations=[DerivationFact("lab/m", "tuner/m2", "tuner", "finetune", None)],
    ),
}


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_the_check_catches_kleene_logic_and_passes_the_engine(name: str) -> None:
    """The property above can fail: Kleene logic alone (the engine before issue 13) disagrees with the
    enumeration on each held-out kind, the sound engine does not."""
    facts = HELD_OUT[name]
    kleene_only = {o.key: o for o in Engine(facts, as_of=AS_OF, sound=False).evaluate().obligations}
    assert disagreements(facts, kleene_only), f"{name}: the check would not notice unsound results"
    assert disagreements(facts, run(facts)[1]) == []


def test_distillation_leaves_the_teacher_compute_out() -> None:
    """GL Annex A.1: training the parent model in distillation may be left out of the student's compute."""
    facts = chain(
        model("lab/teacher", training_compute_flop=5e25),
        model("tuner/student", training_compute_flop=None),
        derivations=[DerivationFact("lab/teacher", "tuner/student", "tuner", "distilled", 2e24)],
    )
    _, obligations, models = run(facts)
    assert models["lab/teacher"]["systemic_risk"] is True
    assert models["tuner/student"]["systemic_risk"] is False
    assert any("GL Annex A.1" in b for b in models["tuner/student"]["because"])


def test_own_continued_pretraining_of_unknown_compute_may_cross_the_presumption() -> None:
    """Art. 51(2), GL §2.2: the provider's own continued pretraining adds to its compute; unknown → undecided."""
    facts = chain(
        model("lab/m", training_compute_flop=9e24),
        model("lab/m2", training_compute_flop=None),
        derivations=[DerivationFact("lab/m", "lab/m2", "lab", "continued_pretraining", None)],
    )
    _, obligations, _ = run(facts)
    assert ("lab", "lab/m", "A55.1.a") not in obligations
    duty = obligations[("lab", "lab/m2", "A55.1.a")]  # Kleene logic dropped it
    assert duty.status == "cannot decide"
    assert any("applies when compute of derivation lab/m -> lab/m2" in b for b in duty.because)


def test_unknown_modification_compute_names_both_completions() -> None:
    """GL paras 60-61: a modifier of unknown compute may or may not become the provider; both are shown."""
    facts = chain(
        model("lab/m", training_compute_flop=3e24),
        model("tuner/m2", training_compute_flop=None),
        derivations=[DerivationFact("lab/m", "tuner/m2", "tuner", "finetune", None)],
    )
    _, obligations, _ = run(facts)
    duty = obligations[("tuner", "tuner/m2", "A53.1.c")]
    assert duty.status == "cannot decide"
    text = " ".join(duty.because)
    assert "applies when" in text and "not when" in text
    assert ("tuner", "tuner/m2", "A55.1.a") in obligations  # cumulative compute may pass 10^25


def test_every_completion_applying_is_decided() -> None:
    """Issue 13: "applies" when every completion applies, even though a compute is unknown."""
    facts = chain(
        model("lab/m", training_compute_flop=None, gpai=True),
        model("lab/m2", training_compute_flop=None),
        derivations=[DerivationFact("lab/m", "lab/m2", "lab", "finetune", 1e22)],
    )
    _, obligations, _ = run(facts)
    assert obligations[("lab", "lab/m", "A53.1.c")].status == "open"
    assert any("every completion" in b for b in obligations[("lab", "lab/m", "A53.1.c")].because)
