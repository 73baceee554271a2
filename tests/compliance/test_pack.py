"""Regime packs: thresholds and dates carry sources; a malformed pack or an unbound rule is a clear error."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from valuechain.compliance.pack import load_regime, parse_pack
from valuechain.core.errors import NotFoundError, ValidationError

PACK = Path(__file__).resolve().parents[2] / "src/valuechain/compliance/packs/eu_ai_act.yaml"


def raw() -> dict[str, Any]:
    return yaml.safe_load(PACK.read_text(encoding="utf-8"))


def test_pack_values_and_sources() -> None:
    pack = load_regime().pack
    assert (
        pack.value("gpai_indicative_flop") == 1e23
        and "para 17" in pack.thresholds["gpai_indicative_flop"].source
    )
    assert (
        pack.value("systemic_presumption_flop") == 1e25
        and "51(2)" in pack.thresholds["systemic_presumption_flop"].source
    )
    assert pack.value("modifier_divisor") == 3 and pack.value("notify_days") == 14
    assert pack.value("reach_business_users") == 10_000
    assert pack.dates["grandfathering_deadline"] == date(2027, 8, 2)
    assert all(t.source for t in pack.thresholds.values())
    assert pack.rule("A52.1").deadline_days == 14 and pack.rule("A54.1").deadline_at_placing


def test_every_rule_function_cites_its_article_in_one_line() -> None:
    regime = load_regime()
    for spec in regime.pack.rules:
        doc = regime.rules[spec.id].__doc__ or ""
        assert "\n" not in doc.strip() and "Art." in doc, spec.id


def test_malformed_pack_is_a_validation_error() -> None:
    data = raw()
    del data["thresholds"]
    with pytest.raises(ValidationError, match="malformed regime pack"):
        parse_pack(data)


def test_unknown_rule_in_pack_lookup() -> None:
    with pytest.raises(NotFoundError, match="known: A52.1"):
        load_regime().pack.rule("A6.1")
