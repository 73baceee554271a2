"""Benchmark the accountability engine on a generated chain of 100,000 models and 100,000 derivations.

Run:  PYTHONPATH=src python bench/bench_compliance.py [--models 100000] [--seed 7]

Prints the time of a full evaluation (goal < 10 s) and of incremental re-evaluation after one changed fact
(goal < 50 ms), for several kinds of change.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from dataclasses import replace
from datetime import date

from valuechain.compliance.engine import Change, Engine
from valuechain.compliance.facts import (
    ActorFact,
    ChainFacts,
    DerivationFact,
    ModelFact,
    OfferFact,
    SystemFact,
)

AS_OF = date(2026, 11, 28)
COUNTRIES = ["FR", "DE", "US", "NL", "IT", "CA", "ES", "GB", "SE", "JP"]
LICENCES = ["apache-2.0", "mit", "proprietary", "llama3-community", "cc-by-4.0"]
RELATIONS = ["finetune", "adapter", "quantized", "distilled", "continued_pretraining"]


def generate(n_models: int, seed: int) -> ChainFacts:
    """A chain of ``n_models`` models and as many derivations (1 % roots, 1 % merges with two parents)."""
    rnd = random.Random(seed)
    actors = [
        ActorFact(f"org{i}", f"Org {i}", rnd.choice(COUNTRIES)) for i in range(max(10, n_models // 100))
    ]
    roots = max(1, n_models // 100)
    models: list[ModelFact] = []
    derivations: list[DerivationFact] = []
    for i in range(n_models):
        owner = rnd.choice(actors).id
        open_weights = rnd.random() < 0.4
        models.append(
            ModelFact(
                id=f"{owner}/m{i}",
                releaser=owner,
                parameters=rnd.choice([1e9, 7e9, 7e10, None]),
                training_compute_flop=rnd.choice([5e22, 2e23, 8e24, 3e25])
                if i < roots or rnd.random() < 0.2
                else None,
                training_tokens=rnd.choice([2e12, 1.5e13, None]),
                output_modalities=frozenset({"text"}),
                licence=rnd.choice(LICENCES),
                weights_public=open_weights,
                architecture_public=open_weights,
                usage_info_public=open_weights,
                eu_market=rnd.choice([None, date(2025, 3, 1), date(2026, 2, 1)]),
            )
        )
        if i >= roots:
            parent = models[rnd.randrange(max(roots, i - 5000), i) if i > roots else 0]
            derivations.append(
                DerivationFact(
                    parent.id,
                    models[i].id,
                    owner,
                    rnd.choice(RELATIONS),
                    rnd.choice([1e20, 1e22, 1e23, None]),
                )
            )
    for _ in range(n_models - len(derivations)):  # merges: a second parent, always older than the child
        child = rnd.randrange(roots + 1, n_models)
        derivations.append(
            DerivationFact(
                models[rnd.randrange(0, child)].id, models[child].id, models[child].releaser, "merge", 1e21
            )
        )
    offers = [OfferFact(rnd.choice(models).id, rnd.choice(actors).id, "api") for _ in range(n_models // 10)]
    systems = [
        SystemFact(
            f"{a.id}/s{i}",
            a.id,
            (a.id,),
            (rnd.choice(models).id,),
            interacts_with_persons=True,
            annex_iii=frozenset({"employment"}) if i % 7 == 0 else frozenset(),
            eu_market=date(2026, 9, 1),
        )
        for i, a in enumerate(rnd.choices(actors, k=n_models // 20))
    ]
    return ChainFacts.build(
        actors=actors, models=models, derivations=derivations, offers=offers, systems=systems
    )


def _timed(label: str, engine: Engine, change: Change, samples: list[float]) -> None:
    start = time.perf_counter()
    diff = engine.update(change)
    elapsed = (time.perf_counter() - start) * 1000
    samples.append(elapsed)
    print(
        f"  {label:<52} {elapsed:8.2f} ms  (re-evaluated {diff.recomputed_models} model(s), "
        f"{diff.recomputed_systems} system(s); {len(diff.added)} added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    facts = generate(args.models, args.seed)
    print(
        f"generated {len(facts.models):,} models, {len(facts.derivations):,} derivations, "
        f"{len(facts.offers):,} offers, {len(facts.systems):,} systems in {time.perf_counter() - start:.2f} s"
    )
    gc.collect()
    start = time.perf_counter()
    engine = Engine(facts, as_of=AS_OF)
    result = engine.evaluate()
    full = time.perf_counter() - start
    print(
        f"full evaluation: {full:.2f} s -> {len(result.models):,} models, "
        f"{len(result.obligations):,} obligations (goal < 10 s)"
    )
    start = time.perf_counter()
    result.as_dict()
    print(f"  (building the JSON-able output: {time.perf_counter() - start:.2f} s, not part of evaluation)")
    rnd = random.Random(args.seed + 1)
    ids = list(facts.models)
    samples: list[float] = []
    print("incremental re-evaluation after one changed fact:")
    for _ in range(10):
        target = facts.models[rnd.choice(ids)]
        _timed(
            f"{target.id}.weights_public={not target.weights_public}",
            engine,
            Change(models=[replace(target, weights_public=not target.weights_public)]),
            samples,
        )
    for _ in range(5):
        target = facts.models[rnd.choice(ids)]
        _timed(
            f"{target.id}.training_compute_flop=2e25",
            engine,
            Change(models=[replace(target, training_compute_flop=2e25)]),
            samples,
        )
    root = facts.models[ids[0]]
    _timed(
        f"root {root.id}.training_compute_flop=2.0e25 (lineage root)",
        engine,
        Change(models=[replace(root, training_compute_flop=2.0e25)]),
        samples,
    )
    target = rnd.choice(ids)
    _timed(
        f"+offer {target} by org1 (api, EU)",
        engine,
        Change(offers=[OfferFact(target, "org1", "api")]),
        samples,
    )
    actor = facts.actors["org5"]
    moved = "FR" if actor.country != "FR" else "US"
    _timed(
        f"actor {actor.id}.country={moved} (all its models and systems)",
        engine,
        Change(actors=[replace(actor, country=moved)]),
        samples,
    )
    system = next(iter(facts.systems.values()))
    _timed(
        f"{system.id}.annex_iii=[education]",
        engine,
        Change(systems=[replace(system, annex_iii=frozenset({"education"}))]),
        samples,
    )
    print(
        f"incremental: median {statistics.median(samples):.2f} ms, max {max(samples):.2f} ms over "
        f"{len(samples)} changes (goal < 50 ms)"
    )


if __name__ == "__main__":
    main()
