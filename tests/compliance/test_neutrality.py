"""Channel neutrality: the only channel-dependent difference is the open-source exemption (Art. 53(2), 54(6))."""

from __future__ import annotations

import pytest

from tests.compliance.builders import AS_OF, chain, model, open_model
from valuechain.compliance.neutrality import neutrality
from valuechain.core.errors import NotFoundError


def test_open_source_model_differs_only_by_the_exemption() -> None:
    report = neutrality(chain(open_model()), "uslab/open", as_of=AS_OF)
    assert {d.rule for d in report.identical} == {"A53.1.c", "A53.1.d"}
    differing = {d.rule: d for d in report.differing}
    assert set(differing) == {"A53.1.a", "A53.1.b", "A54.1"}
    assert "open_weights" not in differing["A53.1.a"].channels
    assert "Art. 53(2)" in differing["A53.1.a"].why


def test_proprietary_model_is_channel_neutral() -> None:
    report = neutrality(chain(model()), "lab/m", as_of=AS_OF)
    assert not report.differing
    assert {d.rule for d in report.identical} == {"A53.1.a", "A53.1.b", "A53.1.c", "A53.1.d"}
    assert "licence `proprietary`" in report.notes[0]


def test_systemic_risk_model_is_channel_neutral() -> None:
    report = neutrality(chain(open_model(training_compute_flop=3e25)), "uslab/open", as_of=AS_OF)
    assert not report.differing
    assert {"A55.1.a", "A52.1", "A54.1"} <= {d.rule for d in report.identical}


def test_neutrality_unknown_model() -> None:
    with pytest.raises(NotFoundError):
        neutrality(chain(model()), "lab/none")


def test_public_weights_without_a_licence_are_published_not_released() -> None:
    """Issue 15: a public hub repo without a licence gets no open-source exemption, and the reason says why."""
    report = neutrality(chain(open_model(licence="none")), "uslab/open", as_of=AS_OF)
    assert not report.differing
    assert "published, not released" in report.notes[0]
