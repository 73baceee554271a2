"""Serious-incident deadlines: Art. 73 for high-risk systems, Code of Practice Measure 9.3 for GPAISR models.

Pure functions over dates; the register itself (records, reports, reminders) is in ``records``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# category → (days for a high-risk system under Art. 73, days for a systemic-risk model under CoP 9.3, source)
CATEGORIES: dict[str, tuple[int, int, str]] = {
    "critical_infrastructure": (2, 2, "Art. 73(3), Art. 3(49)(b); CoP Measure 9.3 (2 days)"),
    "widespread_infringement": (2, 15, "Art. 73(3), Art. 3(61); CoP Measure 9.3 (15 days)"),
    "cybersecurity_breach": (15, 5, "Art. 73(2); CoP Measure 9.3 (5 days, incl. exfiltration of weights)"),
    "death": (10, 10, "Art. 73(4); CoP Measure 9.3 (10 days)"),
    "health": (15, 15, "Art. 73(2), Art. 3(49)(a); CoP Measure 9.3 (15 days)"),
    "fundamental_rights": (15, 15, "Art. 73(2), Art. 3(49)(c); CoP Measure 9.3 (15 days)"),
    "property_or_environment": (15, 15, "Art. 73(2), Art. 3(49)(d); CoP Measure 9.3 (15 days)"),
}
INTERMEDIATE_EVERY = timedelta(weeks=4)  # CoP Measure 9.3: intermediate reports at least every 4 weeks
FINAL_WITHIN = timedelta(days=60)  # CoP Measure 9.3: final report within 60 days of resolution


@dataclass(frozen=True, slots=True)
class Deadline:
    """What report is due next, by when, and why."""

    report: str  # initial | intermediate | final | none
    due: date | None
    source: str


def initial_deadline(category: str, aware: date, *, systemic_model: bool) -> Deadline:
    """The initial report's deadline from the day the provider became aware (Art. 73(2)-(4), CoP 9.3)."""
    act_days, cop_days, source = CATEGORIES[category]
    days = cop_days if systemic_model else act_days
    return Deadline("initial", aware + timedelta(days=days), source)


def next_deadline(
    category: str,
    aware: date,
    *,
    systemic_model: bool,
    reports: list[tuple[str, date]],
    resolved: date | None,
) -> Deadline:
    """The next report owed: initial; then a complete report (Art. 73(5)) or, for a systemic-risk model,
    intermediate reports every 4 weeks while open and a final one within 60 days of resolution (CoP 9.3)."""
    kinds = {kind for kind, _ in reports}
    if not kinds & {"initial", "complete", "final"}:  # a complete first report is also the initial one
        return initial_deadline(category, aware, systemic_model=systemic_model)
    if not systemic_model:
        # Art. 73(5) sets no period for the complete report; the CoP's 60 days bind GPAISR providers only.
        if kinds & {"complete", "final"}:
            return Deadline("none", None, "")
        return Deadline("complete", None, "Art. 73(5): a complete report follows the initial one")
    if "final" in kinds:
        return Deadline("none", None, "")
    if resolved is not None:
        return Deadline("final", resolved + FINAL_WITHIN, "CoP Measure 9.3 (final report within 60 days)")
    last = max(at for _, at in reports)
    return Deadline("intermediate", last + INTERMEDIATE_EVERY, "CoP Measure 9.3 (at least every 4 weeks)")
