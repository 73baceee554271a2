"""Sound three-valued evaluation: decide obligations over every completion of the unknown compute facts.

Kleene logic over unknown facts is not sound for thresholds: it may say "cannot decide" where every
completion decides the same, decide where completions differ (a provider's own continued pretraining of
unknown compute may cross 10^25 FLOP), or drop a duty some completions impose. Here, per lineage component,
every unknown compute (a root model's training compute, a derivation's compute) takes one value from each
interval between the thresholds that could matter (GL para 17, Art. 51(2), GL paras 60-61, and sums and
thirds of the known computes of the component, GL Annex A.1), and the Kleene engine evaluates each
completion. An obligation then applies iff it applies in all of them, "cannot decide" iff in some, and is
dropped iff in none (issue 13). A "cannot decide" names one completion where it applies and one where not.

Unknown resale agreements (``ChainFacts.resale`` None) need no enumeration: completing them can only turn a
reseller's own-brand white-label offer into one an agreement covers (its provider role unsettled under
Art. 3(3), so "cannot decide") or one none covers (a provider, so "applies"); some completion is always
"cannot decide", which is what the Kleene engine already says for an unknown agreement. Known agreements
travel with each completion.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from valuechain.compliance.facts import ChainFacts, DerivationFact, ModelFact, ResaleFact
from valuechain.compliance.pack import Pack
from valuechain.compliance.results import EvidenceKey, Obligation
from valuechain.compliance.views import flop

MAX_COMPLETIONS = 4096  # per lineage component; beyond it the Kleene result stands
MAX_GAPS = 4  # unknown computes per component enumerated
MAX_NEIGHBOURS = 8  # known computes a gap's candidate values are derived from


@dataclass(frozen=True, slots=True)
class Unknown:
    """One unknown fact: a model's training compute or a derivation's compute."""

    kind: str  # "model" | "derivation"
    key: str  # model id, or "parent>child"

    @property
    def label(self) -> str:
        return (
            f"training compute of {self.key}"
            if self.kind == "model"
            else f"compute of derivation {self.key.replace('>', ' -> ')}"
        )


def components(facts: ChainFacts) -> list[set[str]]:
    """Models connected by derivations (each component is decided independently)."""
    parent_of: dict[str, str] = {m: m for m in facts.models}

    def find(x: str) -> str:
        while parent_of[x] != x:
            parent_of[x] = parent_of[parent_of[x]]
            x = parent_of[x]
        return x

    for d in facts.derivations:
        if d.parent in parent_of and d.child in parent_of:
            parent_of[find(d.parent)] = find(d.child)
    groups: dict[str, set[str]] = {}
    for m in facts.models:
        groups.setdefault(find(m), set()).add(m)
    return list(groups.values())


def unknowns(facts: ChainFacts, models: set[str], derivations: list[DerivationFact]) -> list[Unknown]:
    """Unknown computes of one component: roots without a computable compute, derivations without one."""
    has_parent = {d.child for d in derivations}
    out = [
        Unknown("model", m)
        for m in sorted(models)
        if m not in has_parent and _model_compute(facts.models[m]) is None
    ]
    out += [Unknown("derivation", f"{d.parent}>{d.child}") for d in derivations if d.compute_flop is None]
    return out


def _model_compute(m: ModelFact) -> float | None:
    if m.training_compute_flop is not None:
        return m.training_compute_flop
    if m.parameters is not None and m.training_tokens is not None:
        return 6 * m.parameters * m.training_tokens
    return None


def candidates(facts: ChainFacts, gaps: list[Unknown], pack: Pack) -> list[float]:
    """One value inside every interval between thresholds and sums/thirds of nearby known computes."""
    limits = [pack.value("gpai_indicative_flop"), pack.value("systemic_presumption_flop")]
    divisor = pack.value("modifier_divisor")
    points = set(limits)
    points |= {pack.value("modifier_fallback_gpai_flop") / divisor}
    points |= {pack.value("modifier_fallback_systemic_flop") / divisor}
    known = sorted(_neighbour_computes(facts, gaps))[:MAX_NEIGHBOURS]
    for c in known:
        points |= {c, c * divisor, c / divisor}
        points |= {t - c for t in limits if t > c}
    for a, b in itertools.combinations(known, 2):
        points |= {t - a - b for t in limits if t > a + b}
    ordered = sorted(p for p in points if p > 0)
    values = [ordered[0] / 10]
    values += [math.sqrt(a * b) for a, b in itertools.pairwise(ordered)]
    values.append(ordered[-1] * 10)
    return values


def _neighbour_computes(facts: ChainFacts, gaps: list[Unknown]) -> set[float]:
    """Known computes one derivation away from an unknown (what its comparisons are made against)."""
    near: set[str] = set()
    for g in gaps:
        near |= set(g.key.split(">")) if g.kind == "derivation" else {g.key}
    edges = [d for d in facts.derivations if d.parent in near or d.child in near]
    near |= {d.parent for d in edges} | {d.child for d in edges}
    out = {c for m in near if m in facts.models and (c := _model_compute(facts.models[m])) is not None}
    return out | {d.compute_flop for d in edges if d.compute_flop is not None}


def completions(
    facts: ChainFacts, models: set[str], gaps: list[Unknown], values: list[float]
) -> Iterator[tuple[ChainFacts, dict[str, float]]]:
    """Every assignment of ``values`` to ``gaps``, as facts limited to the component."""
    offers = [o for o in facts.offers if o.model in models]
    systems = [s for s in facts.systems.values() if set(s.models) & models]
    derivations = [d for d in facts.derivations if d.child in models and d.parent in models]
    resale = _resale(facts, models)
    for chosen in itertools.product(values, repeat=len(gaps)):
        assignment = {g.key: v for g, v in zip(gaps, chosen, strict=True)}
        ms = [
            replace(facts.models[m], training_compute_flop=assignment[m], compute_disclosed=False)
            if m in assignment
            else facts.models[m]
            for m in sorted(models)
        ]
        ds = [_with_compute(d, assignment) for d in derivations]
        labels = {g.label: assignment[g.key] for g in gaps}
        yield (
            ChainFacts.build(
                actors=list(facts.actors.values()),
                models=ms,
                derivations=ds,
                offers=offers,
                systems=systems,
                as_of=facts.as_of,
                resale=resale,
            ),
            labels,
        )


def _resale(facts: ChainFacts, models: set[str]) -> tuple[ResaleFact, ...] | None:
    """The component's resale agreements (None stays None: not recorded)."""
    return None if facts.resale is None else tuple(r for r in facts.resale if r.model in models)


def _with_compute(d: DerivationFact, assignment: Mapping[str, float]) -> DerivationFact:
    key = f"{d.parent}>{d.child}"
    return replace(d, compute_flop=assignment[key]) if key in assignment else d


Kleene = Callable[[ChainFacts], list[Obligation]]


Cache = dict[tuple[object, ...], list[Obligation]]


def decide(
    facts: ChainFacts, *, pack: Pack, kleene: Kleene, current: list[Obligation], cache: Cache | None = None
) -> tuple[list[Obligation], set[str]]:
    """Model obligations decided over all completions; returns them and the models they cover.

    ``cache`` keeps each component's result keyed by its facts, so an incremental update re-decides only
    the component it touched.
    """
    cache = {} if cache is None else cache
    out: list[Obligation] = []
    covered: set[str] = set()
    by_subject: dict[str, list[Obligation]] = {}
    for o in current:
        by_subject.setdefault(o.subject, []).append(o)
    groups = components(facts)
    where = {m: i for i, group in enumerate(groups) for m in group}
    edges: dict[int, list[DerivationFact]] = {}
    for d in facts.derivations:
        if d.parent in where and d.child in where:
            edges.setdefault(where[d.child], []).append(d)
    for i, models in enumerate(groups):
        gaps = unknowns(facts, models, edges.get(i, []))
        if not gaps or len(gaps) > MAX_GAPS:
            continue
        values = candidates(facts, gaps, pack)
        if len(values) ** len(gaps) > MAX_COMPLETIONS:
            continue
        covered |= models
        key = _component_key(facts, models, edges.get(i, []))
        if key not in cache:
            cache[key] = _merge(facts, models, gaps, values, kleene, by_subject)
        out += cache[key]
    return out, covered


def _component_key(
    facts: ChainFacts, models: set[str], derivations: list[DerivationFact]
) -> tuple[object, ...]:
    return (
        tuple(facts.models[m] for m in sorted(models)),
        tuple(derivations),
        tuple(o for o in facts.offers if o.model in models),
        tuple(s for s in facts.systems.values() if set(s.models) & models),
        tuple(facts.actors.values()),
        _resale(facts, models),
    )


def _merge(
    facts: ChainFacts,
    models: set[str],
    gaps: list[Unknown],
    values: list[float],
    kleene: Kleene,
    by_subject: Mapping[str, list[Obligation]],
) -> list[Obligation]:
    seen: dict[EvidenceKey, Obligation] = {}
    applies: dict[EvidenceKey, dict[str, float]] = {}
    undecided: set[EvidenceKey] = set()
    absent: dict[EvidenceKey, dict[str, float]] = {}
    runs: list[tuple[set[EvidenceKey], dict[str, float]]] = []
    for completed, labels in completions(facts, models, gaps, values):
        keys = set()
        for o in kleene(completed):
            if o.subject not in models:
                continue
            keys.add(o.key)
            seen.setdefault(o.key, o)
            if o.status == "cannot decide":
                undecided.add(o.key)
            else:
                applies.setdefault(o.key, labels)
        runs.append((keys, labels))
    for keys, labels in runs:
        for key in seen:
            if key not in keys:
                absent.setdefault(key, labels)
    kept = {o.key: o for m in models for o in by_subject.get(m, ())}
    out = []
    for key, first in seen.items():
        base = kept.get(key, first)
        if key not in absent and key not in undecided:
            status = first.status if base.status == "cannot decide" else base.status
            because = tuple(b for b in base.because if "cannot decide" not in b)
            because += (f"applies whatever the unknown {_names(gaps)} (every completion)",)
            out.append(replace(base, status=status, because=tuple(dict.fromkeys(because))))
            continue
        why = _witness(applies.get(key), absent.get(key), undecided_too=key in undecided)
        status = (
            base.status if base.status not in ("open", "overdue", "not yet applicable") else "cannot decide"
        )
        out.append(replace(base, status=status, because=tuple(dict.fromkeys((*base.because, why)))))
    return out


def _names(gaps: list[Unknown]) -> str:
    return ", ".join(g.label for g in gaps)


def _witness(yes: dict[str, float] | None, no: dict[str, float] | None, *, undecided_too: bool) -> str:
    def show(labels: dict[str, float]) -> str:
        return ", ".join(f"{k} = {flop(v)} FLOP" for k, v in labels.items())

    parts = []
    if yes:
        parts.append(f"applies when {show(yes)}")
    if no:
        parts.append(f"not when {show(no)}")
    if undecided_too and not parts:
        parts.append("other facts are missing too")
    return "cannot decide: " + "; ".join(parts)
