"""Regime packs: thresholds, dates and rule metadata as versioned data, bound by id to pure rule functions."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import yaml

from valuechain.core.errors import NotFoundError, ValidationError

_PACK_DIR = Path(__file__).parent / "packs"

# Regime id → (pack file, module holding ``RULES`` and ``classify_model``/``classify_system``).
REGIMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"eu-ai-act": ("eu_ai_act.yaml", "valuechain.compliance.rules_eu_ai_act")}
)
DEFAULT_REGIME = "eu-ai-act"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A number the rules compare against, with where it comes from."""

    value: float
    source: str


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """The data half of a rule; the logic half is the function bound to ``id``."""

    id: str
    title: str
    citation: str
    subject: str  # "model" | "system"
    effective: date
    effective_source: str
    sentence: str
    deadline_days: int | None = None
    deadline_at_placing: bool = False
    modifier_scope: str = "full"


@dataclass(frozen=True, slots=True)
class Pack:
    """One version of a regime's data."""

    regime: str
    version: str
    title: str
    sources: Mapping[str, str]
    thresholds: Mapping[str, Threshold]
    dates: Mapping[str, date]
    gpai_output_modalities: frozenset[str]
    open_source_licences: frozenset[str]
    disqualifying_terms: frozenset[str]
    rules: tuple[RuleSpec, ...]

    def value(self, name: str) -> float:
        """A threshold's value."""
        return self.thresholds[name].value

    def rule(self, rule_id: str) -> RuleSpec:
        """The rule with this id, or a NotFoundError naming the known ids."""
        for spec in self.rules:
            if spec.id == rule_id:
                return spec
        known = ", ".join(s.id for s in self.rules)
        raise NotFoundError(f"unknown rule id `{rule_id}` in regime {self.regime} (known: {known})")


@dataclass(frozen=True, slots=True)
class Regime:
    """A pack with its bound rule functions and classifiers."""

    pack: Pack
    rules: Mapping[str, Callable[..., Any]]
    module: ModuleType

    def check_rule_ids(self, rule_ids: list[str] | tuple[str, ...] | frozenset[str]) -> None:
        """Raise NotFoundError for the first id the regime does not know."""
        for rule_id in rule_ids:
            self.pack.rule(rule_id)


def _parse_regime_name(name: str) -> tuple[str, str | None]:
    regime, _, version = name.partition("@")
    return regime, (version or None)


@lru_cache(maxsize=8)
def load_regime(name: str = DEFAULT_REGIME) -> Regime:
    """Load ``eu-ai-act`` (or ``eu-ai-act@<version>``); unknown regimes or versions are a NotFoundError."""
    regime_id, version = _parse_regime_name(name)
    if regime_id not in REGIMES:
        raise NotFoundError(f"unknown regime `{regime_id}` (known: {', '.join(sorted(REGIMES))})")
    filename, module_name = REGIMES[regime_id]
    pack = parse_pack(yaml.safe_load((_PACK_DIR / filename).read_text(encoding="utf-8")))
    if version is not None and version != pack.version:
        raise NotFoundError(f"unknown version `{version}` of regime {regime_id} (have {pack.version})")
    module = importlib.import_module(module_name)
    functions: Mapping[str, Callable[..., Any]] = module.RULES
    missing = [s.id for s in pack.rules if s.id not in functions]
    if missing:
        raise ValidationError(f"regime {regime_id}: no rule function for {', '.join(missing)}")
    return Regime(pack=pack, rules=functions, module=module)


def parse_pack(data: dict[str, Any]) -> Pack:
    """Build a Pack from its YAML data, resolving date and deadline names."""
    try:
        thresholds = {
            k: Threshold(float(v["value"]), str(v["source"])) for k, v in data["thresholds"].items()
        }
        dates = {k: v["value"] for k, v in data["dates"].items()}
        rules = tuple(_rule_spec(r, dates, data["dates"], thresholds) for r in data["rules"])
        return Pack(
            regime=data["regime"],
            version=str(data["version"]),
            title=data["title"],
            sources=MappingProxyType(dict(data.get("sources", {}))),
            thresholds=MappingProxyType(thresholds),
            dates=MappingProxyType(dates),
            gpai_output_modalities=frozenset(data["gpai_output_modalities"]),
            open_source_licences=frozenset(x.lower() for x in data["open_source_licences"]),
            disqualifying_terms=frozenset(data["disqualifying_terms"]),
            rules=rules,
        )
    except (KeyError, TypeError) as exc:
        raise ValidationError(f"malformed regime pack: missing or bad {exc}") from None


def _rule_spec(
    raw: dict[str, Any], dates: dict[str, date], date_src: dict[str, Any], thresholds: dict[str, Threshold]
) -> RuleSpec:
    days_name = raw.get("deadline_days")
    return RuleSpec(
        id=raw["id"],
        title=raw["title"],
        citation=raw["citation"],
        subject=raw["subject"],
        effective=dates[raw["effective"]],
        effective_source=date_src[raw["effective"]]["source"],
        sentence=raw["sentence"],
        deadline_days=int(thresholds[days_name].value) if days_name else None,
        deadline_at_placing=raw.get("deadline") == "placing",
        modifier_scope=raw.get("modifier_scope", "full"),
    )
