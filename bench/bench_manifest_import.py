"""Import a generated chain manifest of 100,000 models and 100,000 derivations; print time and peak memory.

Usage: python bench/bench_manifest_import.py [--models N] [--database-url URL]

Goal (issue 2): under 60 s and under 1 GiB on the 2-core CI machine. Each phase runs in a fresh child
process so that peak RSS is the import's own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, *, models: int, actors: int, seed: int = 42) -> int:
    """Write the manifest; returns the number of derivations (equal to ``models``)."""
    rng = random.Random(seed)
    roots = models // 10
    with path.open("w", encoding="utf-8") as out:
        out.write("valuechain: 1\nas_of: 2026-11-28\nactors:\n")
        for a in range(actors):
            out.write(
                f"  - {{id: org{a}, name: Org {a}, country: {'DE' if a % 3 else 'US'}, sme: {str(a % 2 == 0).lower()}}}\n"
            )
        out.write("models:\n")
        for m in range(models):
            compute = f"{rng.uniform(1e21, 1e26):.3e}" if m < roots else "null"
            out.write(
                f"  - {{id: org{m % actors}/m{m}, parameters: {rng.uniform(1e8, 1e12):.3e}, training_compute_flop: {compute},"
                f" output_modalities: [text], licence: apache-2.0, weights_public: {str(m % 2 == 0).lower()},"
                f" eu_market: 2025-{1 + m % 12:02d}-01}}\n"
            )
        out.write("derivations:\n")
        count = 0
        first_parent: dict[int, int] = {}
        for j in range(models):
            child = roots + (j % (models - roots))
            if child not in first_parent:
                parent = first_parent[child] = rng.randrange(child)
            else:  # a second parent (a merge): any other earlier model
                parent = (first_parent[child] + 1) % child
            by = f"org{child % actors}"
            out.write(
                f"  - {{parent: org{parent % actors}/m{parent}, child: {by}/m{child}, by: {by}, relation: finetune, compute_flop: 1.0e+21}}\n"
            )
            count += 1
    return count


def run_import(manifest: Path, database_url: str) -> dict[str, float]:
    from valuechain.accounts.principal import system_principal
    from valuechain.core import migrate
    from valuechain.core.db import Database
    from valuechain.registry.chain import import_manifest
    from valuechain.registry.check import load_manifest

    db = Database(database_url)
    migrate.upgrade(db)
    started = time.perf_counter()
    parsed = load_manifest(manifest)
    checked = time.perf_counter()
    with db.unit_of_work() as session:
        report = import_manifest(session, parsed, principal=system_principal())
    done = time.perf_counter()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "parse_and_check_s": round(checked - started, 2),
        "import_s": round(done - checked, 2),
        "total_s": round(done - started, 2),
        "peak_rss_mib": round(peak_mib, 1),
        "models_created": report.created["model"],
        "derivations_created": report.created["derivation"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--actors", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--child", nargs=2, metavar=("MANIFEST", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_import(Path(args.child[0]), args.child[1])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "chain.yaml"
        started = time.perf_counter()
        derivations = generate(manifest, models=args.models, actors=args.actors)
        print(
            f"generated {args.models} models, {derivations} derivations, {args.actors} actors "
            f"({manifest.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - started:.1f} s"
        )
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(manifest), url], capture_output=True, text=True
        )
        if child.returncode:
            sys.exit(child.stderr)
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    backend = url.split(":", 1)[0]
    print(f"backend: {backend}")
    for name, value in figures.items():
        print(f"  {name:22} {value}")
    print(
        f"goal: total < 60 s -> {'met' if figures['total_s'] < 60 else 'MISSED'}; "
        f"peak < 1024 MiB -> {'met' if figures['peak_rss_mib'] < 1024 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
