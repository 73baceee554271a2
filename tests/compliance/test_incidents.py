"""Serious-incident deadlines (issue 13 point 7): Art. 73 for high-risk systems, Code of Practice Measure 9.3
for GPAI models with systemic risk, as pure functions over dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from valuechain.compliance.incidents import CATEGORIES, initial_deadline, next_deadline

AWARE = date(2026, 10, 1)

# (category, days for a high-risk system under Art. 73, days for a systemic-risk model under CoP 9.3, cites)
INITIAL = [
    ("health", 15, 15, "Art. 73(2); CoP Measure 9.3 (15 days)"),
    ("fundamental_rights", 15, 15, "Art. 73(2), Art. 3(49)(c); CoP Measure 9.3"),
    ("property_or_environment", 15, 15, "Art. 73(2), Art. 3(49)(d); CoP Measure 9.3"),
    ("death", 10, 10, "Art. 73(4); CoP Measure 9.3 (10 days)"),
    ("critical_infrastructure", 2, 2, "Art. 73(3), Art. 3(49)(b); CoP Measure 9.3 (2 days)"),
    ("widespread_infringement", 2, 15, "Art. 73(3), Art. 3(61)"),
    ("cybersecurity_breach", 15, 5, "CoP Measure 9.3 (5 days, exfiltration of weights; GL §5.2)"),
]


@pytest.mark.parametrize(("category", "act", "cop", "cites"), INITIAL, ids=[c[0] for c in INITIAL])
def test_initial_report_deadline_by_category(category: str, act: int, cop: int, cites: str) -> None:
    """The initial report is due the given number of days after awareness (the Act says days, not
    working days)."""
    assert initial_deadline(category, AWARE, systemic_model=False).due == AWARE + timedelta(days=act), cites
    assert initial_deadline(category, AWARE, systemic_model=True).due == AWARE + timedelta(days=cop), cites


def test_every_category_is_in_the_table() -> None:
    assert {c[0] for c in INITIAL} == set(CATEGORIES)


def _next(
    *reports: tuple[str, date], systemic: bool, resolved: date | None = None
) -> tuple[str, date | None]:
    found = next_deadline("health", AWARE, systemic_model=systemic, reports=list(reports), resolved=resolved)
    return found.report, found.due


def test_high_risk_system_owes_an_initial_then_a_complete_report() -> None:
    """Art. 73(5): an initial, possibly incomplete, report followed by a complete one, with no period set;
    the Code of Practice's 60 days after resolution bind only providers of systemic-risk models."""
    assert _next(systemic=False) == ("initial", AWARE + timedelta(days=15))
    assert _next(("initial", date(2026, 10, 3)), systemic=False) == ("complete", None)
    assert _next(("initial", date(2026, 10, 3)), systemic=False, resolved=date(2026, 11, 1)) == (
        "complete",
        None,
    )
    assert _next(("initial", date(2026, 10, 3)), ("complete", date(2026, 11, 5)), systemic=False) == (
        "none",
        None,
    )
    # a complete report filed first is also the initial one
    assert _next(("complete", date(2026, 10, 3)), systemic=False) == ("none", None)


def test_systemic_risk_model_reports_every_four_weeks_then_a_final_report() -> None:
    """CoP Measure 9.3: intermediate reports at least every 4 weeks while unresolved; a final report within
    60 days of resolution; a complete report does not replace the final one."""
    first = ("initial", date(2026, 10, 5))
    assert _next(first, systemic=True) == ("intermediate", date(2026, 11, 2))
    assert _next(first, ("intermediate", date(2026, 11, 1)), systemic=True) == (
        "intermediate",
        date(2026, 11, 29),
    )
    resolved = date(2026, 12, 1)
    assert _next(first, systemic=True, resolved=resolved) == ("final", date(2027, 1, 30))
    assert _next(first, ("complete", date(2026, 12, 2)), systemic=True, resolved=resolved) == (
        "final",
        date(2027, 1, 30),
    )
    assert _next(first, ("final", date(2026, 12, 20)), systemic=True, resolved=resolved) == ("none", None)
