#!/usr/bin/env bash
# Mutation testing (issue 17, part 9): mutmut over the money, authorization, audit and rules modules named
# in pyproject.toml's [tool.mutmut] (only_mutate), against the tests named there. A benchmark-style job,
# not part of `make test`: it takes long on two cores. Needs the `bench` extra (pip install -e '.[test,bench]').
#
#   bench/mutation.sh                      every mutant of every listed module
#   bench/mutation.sh 'valuechain.market.ledger*'  only those (mutmut's name globs)
#
# Results: `mutmut results`, `mutmut show NAME`; the score is recorded in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export VALUECHAIN_TEST_REDIS_URL="${VALUECHAIN_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
unset PYTHONPATH  # mutmut puts its mutated copy (mutants/src) first on the path
python -m mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "$@"
python - <<'PY'
# Per module: detected = killed + timed out; the score counts every generated mutant, "no tests" and
# "not checked" (not run yet) included, as not detected.
import collections, re, subprocess, sys
out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True, text=True)
by = collections.defaultdict(collections.Counter)
for line in out.stdout.splitlines():
    name, _, status = line.strip().rpartition(": ")
    match = re.match(r"valuechain\.(.+?)\.x[_ǁ]", name)
    if match:
        by[match.group(1).replace(".", "/") + ".py"][status] += 1
print("| module | mutants | killed | timeout | survived | no tests | not checked | score |")
print("|---|---|---|---|---|---|---|---|")
total = collections.Counter()
for module, counts in sorted(by.items()):
    total += counts
    n, hit = sum(counts.values()), counts["killed"] + counts["timeout"]
    print(f"| `{module}` | {n} | {counts['killed']} | {counts['timeout']} | {counts['survived']} | "
          f"{counts['no tests']} | {counts['not checked']} | {100 * hit / n:.1f} % |")
n, hit = sum(total.values()), total["killed"] + total["timeout"]
print(f"| **all** | {n} | {total['killed']} | {total['timeout']} | {total['survived']} | {total['no tests']} | "
      f"{total['not checked']} | **{100 * hit / n:.1f} %** |")
other = {k: v for k, v in total.items() if k not in ("killed", "timeout", "survived", "no tests", "not checked")}
if other:
    print("other statuses:", other)
PY
