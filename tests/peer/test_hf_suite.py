"""CI gate: huggingface_hub's own test suite (the pinned version) against a served hub (issue 15).

Runs `tests/peer/hf_suite.py` once (about a minute on two cores, plus a one-time `pip download` of the
sdist into VALUECHAIN_PEER_CACHE or ~/.cache/valuechain/peer) and fails below the agreed pass rate. What
is out of scope is listed, with reasons, in `tests/peer/scope.py`; what still fails, in docs/hub.md.
"""

from __future__ import annotations

import pytest

from tests.peer.hf_suite import run_suite

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MIN_PASS_RATE = 0.95  # agreed in issue 15
MIN_IN_SCOPE = 100  # the measure must cover the suite, not a handful of tests that happen to run


def test_huggingface_hub_suite_passes_against_the_hub() -> None:
    summary = run_suite(timeout=900)
    failures = "\n".join(f"{node}: {message}" for node, message in summary.failed)
    assert not summary.broken_modules, summary.broken_modules
    assert summary.in_scope >= MIN_IN_SCOPE, summary
    assert summary.rate >= MIN_PASS_RATE, f"{summary.passed}/{summary.in_scope} pass:\n{failures}"
