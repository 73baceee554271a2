"""EU AI Act rules as pure functions over classified views; each is bound by id in packs/eu_ai_act.yaml.

Model rules take ``(model, role, actors, pack)`` and return ``(triggered, because)`` for one provider role;
system rules take ``(system, actors, pack)`` and return the actors they apply to as ``Hit``s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from valuechain.compliance.classify_eu_ai_act import classify_model, classify_system
from valuechain.compliance.facts import ActorFact
from valuechain.compliance.pack import Pack
from valuechain.compliance.views import Hit, ModelView, ProviderRole, SystemView, Tri, and3, not3, or3

__all__ = ["RULES", "classify_model", "classify_system"]

Actors = Mapping[str, ActorFact]
Verdict = tuple[Tri, tuple[str, ...]]


def a52_1(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 52(1): notify the Commission within two weeks when the systemic-risk threshold is met."""
    return and3(m.placed, m.gpai, m.systemic, not m.designated), (m.systemic_reason, m.placing_reason)


def a53_1_a(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 53(1)(a), Annex XI: technical documentation, unless open-source exempt (Art. 53(2))."""
    return and3(m.placed, m.gpai, not3(m.exempt)), (m.gpai_reason, m.exempt_reason, m.placing_reason)


def a53_1_b(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 53(1)(b), Annex XII: information for downstream providers, unless exempt (Art. 53(2))."""
    return and3(m.placed, m.gpai, not3(m.exempt)), (m.gpai_reason, m.exempt_reason, m.placing_reason)


def a53_1_c(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 53(1)(c): copyright policy; the open-source exemption never lifts it (Art. 53(2), recital 104)."""
    return and3(m.placed, m.gpai), (m.gpai_reason, m.placing_reason)


def a53_1_d(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 53(1)(d): public training-content summary; never lifted by the open-source exemption."""
    return and3(m.placed, m.gpai), (m.gpai_reason, m.placing_reason)


def a54_1(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 54(1): providers outside the Union appoint an EU representative (not if Art. 54(6))."""
    actor = actors.get(role.actor)
    outside: Tri = None if actor is None else not actor.is_eu
    where = (
        f"{role.actor}'s country is not recorded"
        if actor is None
        else (
            f"{role.actor} is established in {actor.country}" + ("" if actor.is_eu else ", outside the Union")
        )
    )
    return and3(m.placed, m.gpai, outside, not3(m.exempt)), (where, m.gpai_reason, m.exempt_reason)


def _systemic_duty(m: ModelView) -> Verdict:
    return and3(m.placed, m.gpai, m.systemic), (m.systemic_reason, m.placing_reason)


def a55_1_a(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 55(1)(a): model evaluation including adversarial testing (systemic risk)."""
    return _systemic_duty(m)


def a55_1_b(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 55(1)(b): assess and mitigate systemic risks at Union level."""
    return _systemic_duty(m)


def a55_1_c(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 55(1)(c): track, document and report serious incidents without undue delay."""
    return _systemic_duty(m)


def a55_1_d(m: ModelView, role: ProviderRole, actors: Actors, pack: Pack) -> Verdict:
    """Art. 55(1)(d): adequate cybersecurity protection for the model and its infrastructure."""
    return _systemic_duty(m)


def a50_1(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 50(1): providers of systems interacting with persons inform them it is an AI system."""
    if not (s.placed and s.fact.interacts_with_persons):
        return []
    return [Hit(s.fact.provider, True, ("intended to interact directly with natural persons",))]


def a50_2(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 50(2): providers of systems generating synthetic content mark outputs machine-readably."""
    if not (s.placed and s.fact.synthetic_output):
        return []
    kinds = ", ".join(sorted(s.fact.synthetic_output))
    return [Hit(s.fact.provider, True, (f"generates synthetic {kinds}",))]


def a50_4a(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 50(4) first subparagraph: deployers disclose deep fakes."""
    if not (s.placed and s.fact.deep_fake):
        return []
    decided: Tri = True
    why = "generates or manipulates image, audio or video constituting a deep fake (Art. 3(60))"
    if not s.fact.synthetic_output & {"image", "audio", "video"}:
        decided = None
        why = (
            "contradictory facts: `deep_fake` is set but no synthetic image, audio or video output: "
            "cannot decide"
        )
    return [Hit(d, decided, (why,)) for d in s.fact.deployers]


def a50_4b(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 50(4) second subparagraph: deployers disclose AI-generated public-interest text."""
    if not (s.placed and s.fact.public_interest_text):
        return []
    decided: Tri = True
    why = "generates text published to inform the public on matters of public interest"
    if "text" not in s.fact.synthetic_output:
        decided = None
        why = "contradictory facts: `public_interest_text` is set but no synthetic text output: cannot decide"
    return [Hit(d, decided, (why,)) for d in s.fact.deployers]


def _high_risk_because(s: SystemView) -> tuple[str, ...]:
    return (s.high_risk_reason,) + ((s.legacy_note,) if s.legacy_note else ())


def a16(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 16: obligations of the provider of a high-risk AI system."""
    if not (s.placed and s.high_risk):
        return []
    return [Hit(s.fact.provider, True, _high_risk_because(s))]


def a26(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 26: obligations of deployers of high-risk AI systems."""
    if not (s.placed and s.high_risk):
        return []
    return [Hit(d, True, _high_risk_because(s)) for d in s.fact.deployers]


_FRIA_POINTS = {
    "5(b)": "creditworthiness or credit scoring",
    "5(c)": "risk assessment and pricing in life and health insurance",
}


def _fria_point(s: SystemView) -> tuple[Tri, str]:
    """Whether the system falls under Annex III point 5(b) or 5(c), which makes every deployer assess."""
    named = sorted(s.fact.annex_iii_points & _FRIA_POINTS.keys())
    if named:
        what = " and ".join(f"{p} {_FRIA_POINTS[p]}" for p in named)
        return True, f"Annex III point {what}: its deployers assess fundamental-rights impact (Art. 27(1))"
    if "essential_services" not in s.fact.areas:
        return False, ""
    if any(p.startswith("5") for p in s.fact.annex_iii_points):
        return False, ""  # another point of area 5 is recorded: not 5(b)/(c)
    return None, (
        "Annex III area essential_services: a FRIA is required for points 5(b) credit scoring and "
        "5(c) life/health insurance; the point is not recorded (`annex_iii_points`)"
    )


def a27(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 27(1): FRIA by public-law or public-service deployers, Annex III 5(b)-(c); never point 2."""
    if not (s.placed and s.high_risk) or s.fact.areas <= {"critical_infrastructure"}:
        return []
    point, point_why = _fria_point(s)
    hits = []
    for deployer in s.fact.deployers:
        actor = actors.get(deployer)
        public = None if actor is None else or3(actor.public_body, actor.public_service)
        if public is True:
            kind = (
                "a body governed by public law"
                if actor and actor.public_body
                else "a public-service provider"
            )
            hits.append(Hit(deployer, True, (f"{deployer} is {kind} (Art. 27(1))",)))
        elif point is True:
            hits.append(Hit(deployer, True, (point_why,)))
        elif public is None or point is None:
            unknown = [point_why] if point is None else []
            if public is None:
                unknown.append(
                    f"whether {deployer} is a public body or provides public services is not recorded"
                )
            hits.append(Hit(deployer, None, ("; ".join(unknown) + ": cannot decide",)))
    return hits


def _became_provider(s: SystemView) -> bool:
    """One of the Art. 25(1) cases applies to this high-risk system."""
    return s.placed and s.high_risk and (s.initial_provider is not None or bool(s.fact.changes))


def a25_1_a(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 25(1)(a): putting one's name or trademark on a high-risk system makes one its provider."""
    # A system id carrying another actor's name, with no recorded change, is a rebrand (format-1 reading).
    rebranded = "rebrand" in s.fact.changes or (s.fact.origin != s.fact.provider and not s.fact.changes)
    if not (s.placed and s.high_risk and rebranded):
        return []
    made_by = s.initial_provider or s.fact.origin
    why = f"{s.fact.provider} places {s.fact.id}, made by {made_by}, under its own name or trademark"
    return [Hit(s.fact.provider, True, (why, s.high_risk_reason))]


def a25_1_b(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 25(1)(b): substantially modifying a high-risk system (still high-risk) makes one its provider."""
    if not (s.placed and s.high_risk):
        return []
    source = s.fact.modified_from or "a high-risk system"
    if "substantial_modification" in s.fact.changes:
        why = f"{s.fact.provider} substantially modified {source}"
    elif "intended_purpose" in s.fact.changes and s.source_high_risk:
        why = (
            f"{s.fact.provider} changed the intended purpose of the high-risk system {source}: a substantial "
            "modification (Art. 3(23))"
        )
    else:
        return []
    return [Hit(s.fact.provider, True, (why, s.high_risk_reason))]


def a25_1_c(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 25(1)(c): changing the intended purpose of a (GPAI) system so that it becomes high-risk."""
    if not (s.placed and s.high_risk and "intended_purpose" in s.fact.changes):
        return []
    if s.source_high_risk:  # 25(1)(c) is about a system *not* classified high-risk; else see 25(1)(b)
        return []
    source = s.fact.modified_from or "a system that was not high-risk"
    purpose = s.fact.intended_purpose or "(not recorded)"
    why = f"{s.fact.provider} changed the intended purpose of {source} to: {purpose}"
    return [Hit(s.fact.provider, True, (why, s.high_risk_reason))]


def a25_2(s: SystemView, actors: Actors, pack: Pack) -> list[Hit]:
    """Art. 25(2): the initial provider cooperates with the new one, unless it excluded high-risk use."""
    if not _became_provider(s) or s.initial_provider is None:
        return []
    if s.initial_excludes_high_risk:
        return []  # Art. 25(2) last sentence: it clearly said the system must not become high-risk
    why = (
        f"{s.initial_provider} provided the system {s.fact.provider} now places as {s.fact.id}; it did not "
        "exclude high-risk use, so it owes information, technical access and assistance"
    )
    return [Hit(s.initial_provider, True, (why,))]


RULES: Mapping[str, Callable[..., Any]] = {
    "A52.1": a52_1,
    "A53.1.a": a53_1_a,
    "A53.1.b": a53_1_b,
    "A53.1.c": a53_1_c,
    "A53.1.d": a53_1_d,
    "A54.1": a54_1,
    "A55.1.a": a55_1_a,
    "A55.1.b": a55_1_b,
    "A55.1.c": a55_1_c,
    "A55.1.d": a55_1_d,
    "A50.1": a50_1,
    "A50.2": a50_2,
    "A50.4a": a50_4a,
    "A50.4b": a50_4b,
    "A16": a16,
    "A26": a26,
    "A27": a27,
    "A25.1.a": a25_1_a,
    "A25.1.b": a25_1_b,
    "A25.1.c": a25_1_c,
    "A25.2": a25_2,
}
