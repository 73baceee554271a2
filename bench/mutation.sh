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
import collections, re, subprocess, sys
out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True, text=True)
by = collections.defaultdict(collections.Counter)
for line in out.stdout.splitlines():
    name, _, status = line.strip().rpartition(": ")
    match = re.match(r"(.+?)\.x[_ǁ]", name)
    if match:
        by[match.group(1)][status] += 1
for module, counts in sorted(by.items()):
    print(module, dict(counts))
PY
