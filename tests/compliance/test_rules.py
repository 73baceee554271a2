"""Worked cases: one or more per rule id and threshold edge, each citing its article or guideline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from tests.compliance.builders import ACTORS, AS_OF, chain, model, open_model, run, system
from valuechain.compliance.facts import ActorFact, ChainFacts, DerivationFact, ModelFact, OfferFact
from valuechain.compliance.rules_eu_ai_act import RULES
from valuechain.compliance.views import ModelView, ProviderRole, SystemView

Key = tuple[str, str, str]
M = "lab/m"
UP = date(1, 1, 1)  # placeholder for "any"


@dataclass
class Case:
    name: str
    cites: str
    facts: ChainFacts
    present: dict[Key, dict[str, Any]] = field(default_factory=dict)
    absent: list[Key] = field(default_factory=list)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    mentions: dict[Key | str, str] = field(default_factory=dict)
    as_of: date = AS_OF


def drv(parent: str, child: str, by: str, compute: float | None, **kw: Any) -> DerivationFact:
    return DerivationFact(parent=parent, child=child, by=by, relation="finetune", compute_flop=compute, **kw)


ONE_THIRD = 2.1e23 / 3
FALLBACK_GPAI = 1e23 / 3
FALLBACK_SR = 1e25 / 3

CASES = [
    # --- GPAI indicative criterion ---------------------------------------------------------------------
    Case(
        "gpai just above 1e23 FLOP",
        "GL para 17 (greater than 10^23 FLOP)",
        chain(model(training_compute_flop=math.nextafter(1e23, 1e30))),
        present={
            ("lab", M, r): {"scope": "full", "status": "open"}
            for r in ("A53.1.a", "A53.1.b", "A53.1.c", "A53.1.d")
        },
        models={M: {"gpai": True, "systemic_risk": False, "provider": "lab"}},
    ),
    Case(
        "exactly 1e23 FLOP is not GPAI",
        "GL para 17 (greater than, not equal)",
        chain(model(training_compute_flop=1e23)),
        absent=[("lab", M, "A53.1.a"), ("lab", M, "A53.1.c")],
        models={M: {"gpai": False}},
    ),
    Case(
        "above 1e23 but no language/image/video output",
        "GL para 17 and §2.1 examples",
        chain(model(output_modalities=frozenset({"other"}))),
        absent=[("lab", M, "A53.1.a")],
        models={M: {"gpai": False}},
    ),
    Case(
        "output modalities unrecorded",
        "GL para 17; issue: missing facts are reported",
        chain(model(output_modalities=frozenset())),
        present={("lab", M, "A53.1.a"): {"status": "cannot decide"}},
        models={M: {"gpai": None}},
    ),
    Case(
        "compute estimated as 6*P*D",
        "GL Annex A.2.2",
        chain(model(training_compute_flop=None, parameters=7e9, training_tokens=3e12)),
        present={("lab", M, "A53.1.d"): {}},
        mentions={M: "6·parameters·tokens"},
    ),
    Case(
        "a fine-tune's own tokens count the modification, not the cumulative compute",
        "GL Annex A.1 (cumulative compute), Annex A.2.2",
        chain(
            model("lab/base", training_compute_flop=1.26e23),
            model("tuner/ft", training_compute_flop=None, parameters=7e9, training_tokens=1e9),
            derivations=[DerivationFact("lab/base", "tuner/ft", "tuner", "finetune", 5e22)],
        ),
        present={("tuner", "tuner/ft", "A53.1.a"): {"scope": "modification"}},
        models={"tuner/ft": {"gpai": True}},
        mentions={"tuner/ft": "cumulative training compute 1.76e23 FLOP"},
    ),
    Case(
        "compute unknown, gpai override",
        "GL §2.1 (rebuttable); issue: decided by the `gpai` override",
        chain(model(training_compute_flop=None, gpai=True)),
        present={
            ("lab", M, "A53.1.a"): {"status": "open"},
            ("lab", M, "A55.1.a"): {"status": "cannot decide"},
            ("lab", M, "A52.1"): {"status": "cannot decide"},
        },
        models={M: {"gpai": True, "systemic_risk": None}},
        mentions={
            M: "training compute unknown and not estimable: GPAI status decided by the `gpai` override"
        },
    ),
    Case(
        "compute unknown, no override",
        "GL para 17, §2.1; issue: cannot decide, never guessed",
        chain(model(training_compute_flop=None)),
        present={("lab", M, "A53.1.c"): {"status": "cannot decide"}},
        models={M: {"gpai": None}},
        mentions={M: "cannot decide"},
    ),
    Case(
        "override gpai=false beats the criterion",
        "GL §2.1 (exceptionally lacks generality)",
        chain(model(training_compute_flop=5e24, gpai=False)),
        absent=[("lab", M, "A53.1.c")],
        models={M: {"gpai": False}},
        mentions={M: "overriding the indicative criterion"},
    ),
    # --- systemic risk ---------------------------------------------------------------------------------
    Case(
        "exactly 1e25 FLOP: no presumption",
        "Art. 51(2) (greater than 10^25)",
        chain(model(training_compute_flop=1e25)),
        absent=[("lab", M, "A55.1.a"), ("lab", M, "A52.1")],
        models={M: {"systemic_risk": False}},
    ),
    Case(
        "just above 1e25 FLOP: systemic risk",
        "Art. 51(2), Art. 52(1), Art. 55(1)",
        chain(model(training_compute_flop=math.nextafter(1e25, 1e30), eu_market=date(2025, 10, 1))),
        present={
            ("lab", M, "A52.1"): {
                "applies_from": date(2025, 10, 1),
                "due": date(2025, 10, 15),
                "status": "overdue",
            },
            **{("lab", M, r): {"scope": "full"} for r in ("A55.1.a", "A55.1.b", "A55.1.c", "A55.1.d")},
        },
        models={M: {"systemic_risk": True}},
    ),
    Case(
        "designated by the Commission: duties but no notification",
        "Art. 51(1)(b), 52(4), 55(1)",
        chain(model(designated_systemic_risk=True)),
        present={("lab", M, "A55.1.c"): {}},
        absent=[("lab", M, "A52.1")],
        models={M: {"systemic_risk": True}},
    ),
    Case(
        "10 000 EU business users: reach presumed, not designated",
        "Annex XIII(f)",
        chain(model(eu_business_users=10_000)),
        models={M: {"systemic_risk": False}},
        mentions={M: "Annex XIII(f)"},
    ),
    Case(
        "9 999 EU business users: no reach note",
        "Annex XIII(f) (at least 10 000)",
        chain(model(eu_business_users=9_999)),
        models={M: {"systemic_risk": False}},
    ),
    # --- open-source exemption -------------------------------------------------------------------------
    Case(
        "open-source exemption lifts 53(1)(a)-(b) and 54, never (c)-(d)",
        "Art. 53(2), 54(6), recital 104",
        chain(open_model()),
        present={("uslab", "uslab/open", "A53.1.c"): {}, ("uslab", "uslab/open", "A53.1.d"): {}},
        absent=[("uslab", "uslab/open", r) for r in ("A53.1.a", "A53.1.b", "A54.1")],
        models={"uslab/open": {"open_source_exempt": True}},
    ),
    Case(
        "no exemption with systemic risk",
        "Art. 53(2) last sentence, 54(6)",
        chain(open_model(training_compute_flop=2e25)),
        present={("uslab", "uslab/open", r): {} for r in ("A53.1.a", "A53.1.b", "A54.1", "A55.1.a")},
        models={"uslab/open": {"open_source_exempt": False}},
    ),
    Case(
        "non-commercial licence term disqualifies",
        "GL §4.2.1",
        chain(open_model(licence_terms=frozenset({"non-commercial"}))),
        present={("uslab", "uslab/open", "A53.1.a"): {}},
        mentions={"uslab/open": "non-commercial"},
    ),
    Case(
        "monetised through ads",
        "GL §4.2.2, recital 103",
        chain(open_model(monetised=frozenset({"ads"}))),
        present={("uslab", "uslab/open", "A53.1.b"): {}},
    ),
    Case(
        "weights not public",
        "Art. 53(2), GL §4.2.3",
        chain(open_model(weights_public=False)),
        present={("uslab", "uslab/open", "A53.1.a"): {}},
    ),
    Case(
        "licence without the four freedoms",
        "GL §4.2.1",
        chain(open_model(licence="llama3-community")),
        present={("uslab", "uslab/open", "A54.1"): {}},
    ),
    # --- authorised representative ---------------------------------------------------------------------
    Case(
        "provider outside the Union appoints a representative before placing",
        "Art. 54(1)",
        chain(model("uslab/m", eu_market=date(2026, 2, 1))),
        present={("uslab", "uslab/m", "A54.1"): {"due": date(2026, 2, 1), "status": "overdue"}},
    ),
    Case("provider in the Union needs none", "Art. 54(1)", chain(model()), absent=[("lab", M, "A54.1")]),
    # --- downstream modifiers --------------------------------------------------------------------------
    Case(
        "modifier above one third becomes provider, scoped to the modification",
        "GL para 60, recital 109",
        chain(
            model(training_compute_flop=2.1e23),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", math.nextafter(ONE_THIRD, 1e30))],
        ),
        present={
            ("tuner", "tuner/c", "A53.1.a"): {"scope": "modification"},
            ("tuner", "tuner/c", "A53.1.d"): {"scope": "modification"},
        },
        models={"tuner/c": {"provider": "tuner", "gpai": True}},
    ),
    Case(
        "exactly one third: not a provider",
        "GL para 60 (more than one third)",
        chain(
            model(training_compute_flop=2.1e23),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", ONE_THIRD)],
        ),
        absent=[("tuner", "tuner/c", "A53.1.a")],
        models={"tuner/c": {"provider": None}},
        mentions={"tuner/c": "does not become a provider"},
    ),
    Case(
        "modifier outside the Union owes Art. 54 too",
        "GL §3.2.1",
        chain(
            model(training_compute_flop=2.1e23),
            model("ustuner/c", training_compute_flop=None),
            derivations=[drv(M, "ustuner/c", "ustuner", 1e23)],
        ),
        present={("ustuner", "ustuner/c", "A54.1"): {"scope": "full"}},
    ),
    Case(
        "fallback 10^23/3 when the original compute is unknown",
        "GL para 61",
        chain(
            model(training_compute_flop=None, gpai=True, designated_systemic_risk=False),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", math.nextafter(FALLBACK_SR, 1e30))],
        ),
        present={("tuner", "tuner/c", "A53.1.a"): {"scope": "modification", "status": "open"}},
    ),
    Case(
        "fallback undecided between 10^23/3 and 10^25/3",
        "GL para 61; issue: cannot decide",
        chain(
            model(training_compute_flop=None, gpai=True),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", math.nextafter(FALLBACK_GPAI, 1e30))],
        ),
        present={("tuner", "tuner/c", "A53.1.a"): {"status": "cannot decide"}},
    ),
    Case(
        "at or below 10^23/3: never a provider",
        "GL para 61",
        chain(
            model(training_compute_flop=None, gpai=True),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", FALLBACK_GPAI)],
        ),
        absent=[("tuner", "tuner/c", "A53.1.a")],
    ),
    Case(
        "modifying a systemic-risk model (fallback 10^25/3) -> presumed systemic, notify",
        "GL §3.2.2, para 61",
        chain(
            model(training_compute_flop=None, gpai=True, designated_systemic_risk=True),
            model("tuner/c", training_compute_flop=None, eu_market=date(2026, 5, 1)),
            derivations=[drv(M, "tuner/c", "tuner", math.nextafter(FALLBACK_SR, 1e30))],
        ),
        present={
            ("tuner", "tuner/c", "A52.1"): {"scope": "full", "due": date(2026, 5, 15)},
            ("tuner", "tuner/c", "A55.1.b"): {"scope": "full"},
            ("tuner", "tuner/c", "A53.1.a"): {"scope": "modification"},
        },
        models={"tuner/c": {"systemic_risk": True}},
    ),
    Case(
        "modification compute unknown",
        "GL para 60; issue: cannot decide",
        chain(
            model(),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", None)],
        ),
        present={("tuner", "tuner/c", "A53.1.a"): {"status": "cannot decide"}},
    ),
    Case(
        "modification on behalf of the original provider stays in its lifecycle",
        "GL §2.2, Art. 3(3)",
        chain(
            model(),
            model("contractor/c", releaser="lab", training_compute_flop=None),
            derivations=[drv(M, "contractor/c", "contractor", 9e23, on_behalf_of="lab")],
        ),
        present={("lab", "contractor/c", "A53.1.a"): {"scope": "full"}},
        absent=[("contractor", "contractor/c", "A53.1.a")],
    ),
    # --- EU exclusion and placing ----------------------------------------------------------------------
    Case(
        "EU excluded upstream, reseller brings it in: reseller is the provider",
        "GL §3.1.3",
        chain(
            model("uslab/x", eu_excluded=True, eu_market=None),
            offers=[OfferFact("uslab/x", "reseller", "white_label", eu=True)],
        ),
        present={("reseller", "uslab/x", "A53.1.a"): {"scope": "full"}},
        absent=[("uslab", "uslab/x", "A53.1.a"), ("uslab", "uslab/x", "A54.1")],
        models={"uslab/x": {"provider": "reseller"}},
    ),
    Case(
        "EU excluded upstream, integrated in an EU system: system provider is the model provider",
        "GL §3.1.3",
        chain(model("uslab/x", eu_excluded=True, eu_market=None), systems=[system(models=("uslab/x",))]),
        present={("shop", "uslab/x", "A53.1.c"): {"applies_from": date(2026, 9, 1)}},
    ),
    Case(
        "EU excluded but placed, nobody bringing it in: contradictory",
        "GL §3.1.3; issue: contradictory facts are reported",
        chain(model("uslab/x", eu_excluded=True, eu_market=date(2026, 1, 1))),
        present={("uslab", "uslab/x", "A53.1.a"): {"status": "cannot decide"}},
        mentions={"uslab/x": "contradictory facts"},
    ),
    Case(
        "designated systemic risk with gpai=false: contradictory",
        "Art. 51(1)(b); issue: contradictory facts are reported",
        chain(model(gpai=False, designated_systemic_risk=True)),
        present={("lab", M, "A55.1.a"): {"status": "cannot decide"}},
        models={M: {"gpai": None}},
        mentions={M: "contradictory facts"},
    ),
    Case(
        "not placed on the Union market",
        "Art. 2(1)(a), Art. 3(9)",
        chain(model(eu_market=None)),
        absent=[("lab", M, "A53.1.c")],
        mentions={M: "not placed on the Union"},
    ),
    Case(
        "offered in the EU, date unknown -> from the rule's date",
        "Art. 113(b)",
        chain(model(eu_market=None), offers=[OfferFact(M, "lab", "api")]),
        present={("lab", M, "A53.1.c"): {"applies_from": date(2025, 8, 2)}},
    ),
    # --- dates -----------------------------------------------------------------------------------------
    Case(
        "placed before 2 Aug 2025: comply by 2 Aug 2027",
        "Art. 111(3)",
        chain(model(eu_market=date(2025, 3, 1))),
        present={
            ("lab", M, "A53.1.a"): {
                "applies_from": date(2025, 8, 2),
                "due": date(2027, 8, 2),
                "status": "open",
            }
        },
    ),
    Case(
        "placed in the future: not yet applicable",
        "Art. 113; applies_from = placing date",
        chain(model(eu_market=date(2027, 1, 10))),
        present={("lab", M, "A53.1.b"): {"applies_from": date(2027, 1, 10), "status": "not yet applicable"}},
    ),
    Case(
        "before Chapter V applies",
        "Art. 113(b)",
        chain(model(eu_market=date(2025, 3, 1))),
        present={("lab", M, "A53.1.a"): {"status": "not yet applicable"}},
        as_of=date(2025, 6, 1),
    ),
    Case(
        "placed on 1 Aug 2025: grandfathered",
        "Art. 111(3) (placed before 2 August 2025)",
        chain(model(eu_market=date(2025, 8, 1))),
        present={("lab", M, "A53.1.c"): {"applies_from": date(2025, 8, 2), "due": date(2027, 8, 2)}},
    ),
    Case(
        "placed on 2 Aug 2025: not grandfathered",
        "Art. 111(3), Art. 113(b)",
        chain(model(eu_market=date(2025, 8, 2))),
        present={("lab", M, "A53.1.c"): {"applies_from": date(2025, 8, 2), "due": None}},
    ),
    Case(
        "applies on the as-of date itself",
        "Art. 113 (applies from)",
        chain(model(eu_market=date(2026, 11, 28))),
        present={("lab", M, "A53.1.c"): {"status": "open"}},
    ),
    Case(
        "exactly 10^25/3 on a systemic-risk original: not a provider",
        "GL para 61 (more than one third)",
        chain(
            model(training_compute_flop=None, gpai=True, designated_systemic_risk=True),
            model("tuner/c", training_compute_flop=None),
            derivations=[drv(M, "tuner/c", "tuner", FALLBACK_SR)],
        ),
        absent=[("tuner", "tuner/c", "A53.1.a"), ("tuner", "tuner/c", "A52.1")],
    ),
    # --- transparency (Art. 50) ------------------------------------------------------------------------
    Case(
        "chatbot informs persons",
        "Art. 50(1)",
        chain(systems=[system(interacts_with_persons=True)]),
        present={("shop", "shop/bot", "A50.1"): {"applies_from": date(2026, 9, 1), "status": "open"}},
        mentions={("shop", "shop/bot", "A50.1"): "intended to interact directly with natural persons"},
    ),
    Case(
        "a system that does not interact with persons informs nobody",
        "Art. 50(1)",
        chain(systems=[system(interacts_with_persons=False)]),
        absent=[("shop", "shop/bot", "A50.1")],
    ),
    Case(
        "synthetic output marked",
        "Art. 50(2)",
        chain(systems=[system(synthetic_output=frozenset({"image", "audio"}))]),
        present={("shop", "shop/bot", "A50.2"): {"status": "open"}},
        mentions={("shop", "shop/bot", "A50.2"): "generates synthetic audio, image"},
    ),
    Case(
        "transparency applies from 2 Aug 2026",
        "Art. 113",
        chain(systems=[system(interacts_with_persons=True, eu_market=date(2025, 1, 1))]),
        present={("shop", "shop/bot", "A50.1"): {"applies_from": date(2026, 8, 2)}},
    ),
    Case(
        "system not in the Union",
        "Art. 2(1)",
        chain(systems=[system(interacts_with_persons=True, eu_market=None)]),
        absent=[("shop", "shop/bot", "A50.1")],
    ),
    Case(
        "deep fake disclosed by deployers",
        "Art. 50(4) first subparagraph, Art. 3(60)",
        chain(systems=[system(deep_fake=True, synthetic_output=frozenset({"video"}), deployers=("agency",))]),
        present={("agency", "shop/bot", "A50.4a"): {"status": "open"}},
        mentions={("agency", "shop/bot", "A50.4a"): "deep fake (Art. 3(60))"},
    ),
    Case(
        "deep fake audio alone is enough",
        "Art. 50(4) first subparagraph, Art. 3(60)",
        chain(systems=[system(deep_fake=True, synthetic_output=frozenset({"audio"}))]),
        present={("shop", "shop/bot", "A50.4a"): {"status": "open"}},
    ),
    Case(
        "deep fake without image/audio/video output is contradictory",
        "Art. 3(60); issue: contradictions",
        chain(systems=[system(deep_fake=True, synthetic_output=frozenset({"text"}))]),
        present={("shop", "shop/bot", "A50.4a"): {"status": "cannot decide"}},
        mentions={("shop", "shop/bot", "A50.4a"): "no synthetic image, audio or video output: cannot decide"},
    ),
    Case(
        "public-interest text disclosed",
        "Art. 50(4) second subparagraph",
        chain(systems=[system(public_interest_text=True, synthetic_output=frozenset({"text"}))]),
        present={("shop", "shop/bot", "A50.4b"): {"status": "open"}},
        mentions={("shop", "shop/bot", "A50.4b"): "matters of public interest"},
    ),
    Case(
        "public-interest text without text output is contradictory",
        "Art. 50(4); issue: contradictions",
        chain(systems=[system(public_interest_text=True)]),
        present={("shop", "shop/bot", "A50.4b"): {"status": "cannot decide"}},
        mentions={("shop", "shop/bot", "A50.4b"): "no synthetic text output: cannot decide"},
    ),
    # --- high-risk systems -----------------------------------------------------------------------------
    Case(
        "Annex III employment: provider and deployer duties",
        "Art. 6(2), Art. 16, Art. 26",
        chain(
            systems=[
                system(
                    "vendor/hr", provider="vendor", deployers=("bank",), annex_iii=frozenset({"employment"})
                )
            ]
        ),
        present={
            ("vendor", "vendor/hr", "A16"): {"status": "open"},
            ("bank", "vendor/hr", "A26"): {"status": "open"},
        },
        absent=[("bank", "vendor/hr", "A27")],
    ),
    Case(
        "high-risk placed before 2 Aug 2026 notes Art. 111(2)",
        "Art. 111(2)",
        chain(systems=[system(annex_iii=frozenset({"education"}), eu_market=date(2026, 1, 5))]),
        present={("shop", "shop/bot", "A16"): {"applies_from": date(2026, 8, 2)}},
        mentions={("shop", "shop/bot", "A16"): "Art. 111(2)"},
    ),
    Case(
        "FRIA by a public body",
        "Art. 27(1)",
        chain(systems=[system(annex_iii=frozenset({"migration"}), deployers=("city",))]),
        present={("city", "shop/bot", "A27"): {"status": "open"}},
        mentions={("city", "shop/bot", "A27"): "city is a body governed by public law"},
    ),
    Case(
        "FRIA undecidable for credit/insurance point",
        "Art. 27(1), Annex III 5(b)-(c)",
        chain(systems=[system(annex_iii=frozenset({"essential_services"}), deployers=("bank",))]),
        present={("bank", "shop/bot", "A27"): {"status": "cannot decide"}},
        mentions={
            (
                "bank",
                "shop/bot",
                "A27",
            ): "5(c) life/health insurance; the point is not recorded (`annex_iii_points`): cannot decide"
        },
    ),
    Case(
        "FRIA by a private deployer of a credit-scoring system",
        "Art. 27(1), Annex III point 5(b)",
        chain(systems=[system(annex_iii_points=frozenset({"5(b)"}), deployers=("bank",))]),
        present={("bank", "shop/bot", "A27"): {"status": "open"}, ("shop", "shop/bot", "A16"): {}},
        mentions={("bank", "shop/bot", "A27"): "Annex III point 5(b) creditworthiness or credit scoring"},
    ),
    Case(
        "FRIA by any deployer of a life and health insurance pricing system",
        "Art. 27(1), Annex III point 5(c)",
        chain(
            systems=[
                system(
                    annex_iii=frozenset({"essential_services"}),
                    annex_iii_points=frozenset({"5(c)"}),
                    deployers=("agency",),
                )
            ]
        ),
        present={("agency", "shop/bot", "A27"): {"status": "open"}},
        mentions={("agency", "shop/bot", "A27"): "5(c) risk assessment and pricing in life and health"},
    ),
    Case(
        "no FRIA for a private deployer of another essential-services point",
        "Art. 27(1), Annex III point 5(d)",
        chain(systems=[system(annex_iii_points=frozenset({"5(d)"}), deployers=("bank",))]),
        present={("bank", "shop/bot", "A26"): {"status": "open"}},
        absent=[("bank", "shop/bot", "A27")],
    ),
    Case(
        "FRIA undecided for a deployer whose public status is unknown, point 5(a)",
        "Art. 27(1), Annex III point 5(a)",
        chain(systems=[system(annex_iii_points=frozenset({"5(a)"}), deployers=("agency",))]),
        present={("agency", "shop/bot", "A27"): {"status": "cannot decide"}},
        mentions={("agency", "shop/bot", "A27"): "whether agency is a public body"},
    ),
    Case(
        "no FRIA for critical infrastructure",
        "Art. 27(1) (except Annex III point 2)",
        chain(systems=[system(annex_iii=frozenset({"critical_infrastructure"}), deployers=("city",))]),
        absent=[("city", "shop/bot", "A27")],
    ),
    Case(
        "FRIA when public-body status is unknown",
        "Art. 27(1); issue: missing facts",
        chain(systems=[system(annex_iii=frozenset({"education"}), deployers=("agency",))]),
        present={("agency", "shop/bot", "A27"): {"status": "cannot decide"}},
    ),
    Case(
        "rebranding a high-risk system",
        "Art. 25(1)(a), 25(2)",
        chain(systems=[system("vendor/hr", provider="reseller", annex_iii=frozenset({"employment"}))]),
        present={
            ("reseller", "vendor/hr", "A25.1.a"): {"status": "open"},
            ("reseller", "vendor/hr", "A16"): {"status": "open"},
        },
    ),
    Case(
        "white-label rebrand: the initial provider must cooperate",
        "Art. 25(1)(a), 25(2)",
        chain(
            systems=[
                system("vendor/hr", provider="vendor", annex_iii=frozenset({"employment"})),
                system(
                    "reseller/hr",
                    provider="reseller",
                    annex_iii=frozenset({"employment"}),
                    modified_from="vendor/hr",
                    changes=frozenset({"rebrand"}),
                ),
            ]
        ),
        present={
            ("reseller", "reseller/hr", "A25.1.a"): {"status": "open"},
            ("vendor", "reseller/hr", "A25.2"): {"status": "open"},
        },
        mentions={("vendor", "reseller/hr", "A25.2"): "it did not exclude high-risk use"},
    ),
    Case(
        "no cooperation duty when the initial provider excluded high-risk use",
        "Art. 25(2) last sentence",
        chain(
            systems=[
                system("vendor/chat", provider="vendor", excludes_high_risk_use=True),
                system(
                    "shop/hr",
                    annex_iii=frozenset({"employment"}),
                    modified_from="vendor/chat",
                    changes=frozenset({"intended_purpose"}),
                ),
            ]
        ),
        present={("shop", "shop/hr", "A25.1.c"): {"status": "open"}},
        absent=[("vendor", "shop/hr", "A25.2")],
    ),
    Case(
        "FRIA by a private provider of public services",
        "Art. 27(1) (private entities providing public services)",
        chain(
            actors=[ActorFact("school", "School Trust", "NL", public_body=False, public_service=True)],
            systems=[system(annex_iii=frozenset({"education"}), deployers=("school",))],
        ),
        present={("school", "shop/bot", "A27"): {"status": "open"}},
        mentions={("school", "shop/bot", "A27"): "school is a public-service provider"},
    ),
    Case(
        "own-name high-risk system is no takeover",
        "Art. 25(1)(a)",
        chain(systems=[system(annex_iii=frozenset({"employment"}))]),
        absent=[("shop", "shop/bot", "A25.1.a")],
    ),
    Case(
        "substantial modification of a high-risk system",
        "Art. 25(1)(b)",
        chain(
            systems=[
                system(
                    annex_iii=frozenset({"education"}),
                    modified_from="vendor/tutor",
                    changes=frozenset({"substantial_modification"}),
                )
            ]
        ),
        present={("shop", "shop/bot", "A25.1.b"): {"status": "open"}},
        mentions={("shop", "shop/bot", "A25.1.b"): "shop substantially modified vendor/tutor"},
    ),
    Case(
        "repurposing a GPAI system to a high-risk use",
        "Art. 25(1)(c)",
        chain(
            systems=[
                system(
                    annex_iii=frozenset({"employment"}),
                    modified_from="vendor/chat",
                    changes=frozenset({"intended_purpose"}),
                    intended_purpose="rank job applicants",
                )
            ]
        ),
        present={("shop", "shop/bot", "A25.1.c"): {"status": "open"}},
        mentions={
            (
                "shop",
                "shop/bot",
                "A25.1.c",
            ): "changed the intended purpose of vendor/chat to: rank job applicants"
        },
    ),
    Case(
        "nothing applies to a system not placed in the Union, whatever its facts",
        "Art. 2(1)",
        chain(
            systems=[
                system(
                    "vendor/hr",
                    provider="reseller",
                    deployers=("city",),
                    eu_market=None,
                    interacts_with_persons=True,
                    synthetic_output=frozenset({"text", "video"}),
                    deep_fake=True,
                    public_interest_text=True,
                    annex_iii=frozenset({"employment"}),
                    modified_from="vendor/chat",
                    changes=frozenset({"intended_purpose", "substantial_modification"}),
                )
            ]
        ),
        absent=[
            (who, "vendor/hr", rule)
            for who in ("reseller", "city")
            for rule in (
                "A50.1",
                "A50.2",
                "A50.4a",
                "A50.4b",
                "A16",
                "A26",
                "A27",
                "A25.1.a",
                "A25.1.b",
                "A25.1.c",
            )
        ],
    ),
    Case(
        "changing the purpose of a high-risk system is a substantial modification",
        "Art. 25(1)(b), Art. 3(23) (not 25(1)(c): the system was already high-risk)",
        chain(
            systems=[
                system("vendor/hr", provider="vendor", annex_iii=frozenset({"employment"})),
                system(
                    "shop/hr",
                    annex_iii=frozenset({"education"}),
                    modified_from="vendor/hr",
                    changes=frozenset({"intended_purpose"}),
                ),
            ]
        ),
        present={
            ("shop", "shop/hr", "A25.1.b"): {"status": "open"},
            ("vendor", "shop/hr", "A25.2"): {"status": "open"},
        },
        absent=[("shop", "shop/hr", "A25.1.c")],
        mentions={("shop", "shop/hr", "A25.1.b"): "a substantial modification (Art. 3(23))"},
    ),
    Case(
        "repurposing without a high-risk purpose",
        "Art. 25(1)(c)",
        chain(systems=[system(changes=frozenset({"intended_purpose"}))]),
        absent=[("shop", "shop/bot", "A25.1.c")],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_worked_case(case: Case) -> None:
    _, obligations, models = run(case.facts, as_of=case.as_of)
    for key, expected in case.present.items():
        assert key in obligations, f"{case.cites}: expected {key}, got {sorted(obligations)}"
        ob = obligations[key]
        for attr, value in expected.items():
            assert getattr(ob, attr) == value, f"{case.cites}: {key}.{attr}"
        assert ob.because, "every obligation explains itself"
    for key in case.absent:
        assert key not in obligations, f"{case.cites}: unexpected {key}"
    for model_id, expected in case.models.items():
        for attr, value in expected.items():
            assert models[model_id][attr] == value, f"{case.cites}: {model_id}.{attr}"
    for where, text in case.mentions.items():
        because = models[where]["because"] if isinstance(where, str) else obligations[where].because
        assert any(text in b for b in because), f"{case.cites}: {text!r} not in {because}"


def test_every_rule_id_has_a_worked_case() -> None:
    from valuechain.compliance.pack import load_regime

    covered = {key[2] for case in CASES for key in case.present}
    assert {s.id for s in load_regime().pack.rules} <= covered


def test_every_case_cites_a_source() -> None:
    assert all(("Art." in c.cites or "GL" in c.cites or "Annex" in c.cites) for c in CASES)


# --- each rule on its own, over hand-made views ----------------------------------------------------------
# The worked cases above go through classification; these pin every input and every word of each rule.


def _model_view(**kw: Any) -> ModelView:
    base: dict[str, Any] = {
        "fact": ModelFact(id="lab/m", releaser="lab"),
        "compute": 2e25,
        "gpai": True,
        "systemic": True,
        "designated": False,
        "open_source": False,
        "exempt": False,
        "placed": True,
        "placing_date": date(2025, 9, 1),
        "roles": (),
        "because": (),
        "gpai_reason": "G",
        "systemic_reason": "S",
        "exempt_reason": "E",
        "placing_reason": "P",
    }
    return ModelView(**(base | kw))


_ROLE = ProviderRole("lab", "full", True, "releaser")
_ACTORS = {a.id: a for a in ACTORS}

# rule → (the inputs that must hold for it to apply, what it cites)
_MODEL_RULES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "A52.1": ({"placed": True, "gpai": True, "systemic": True, "designated": False}, ("S", "P")),
    "A53.1.a": ({"placed": True, "gpai": True, "exempt": False}, ("G", "E", "P")),
    "A53.1.b": ({"placed": True, "gpai": True, "exempt": False}, ("G", "E", "P")),
    "A53.1.c": ({"placed": True, "gpai": True}, ("G", "P")),
    "A53.1.d": ({"placed": True, "gpai": True}, ("G", "P")),
    "A55.1.a": ({"placed": True, "gpai": True, "systemic": True}, ("S", "P")),
    "A55.1.b": ({"placed": True, "gpai": True, "systemic": True}, ("S", "P")),
    "A55.1.c": ({"placed": True, "gpai": True, "systemic": True}, ("S", "P")),
    "A55.1.d": ({"placed": True, "gpai": True, "systemic": True}, ("S", "P")),
}


@pytest.mark.parametrize("rule_id", _MODEL_RULES)
def test_each_model_rule_needs_every_one_of_its_conditions(rule_id: str) -> None:
    rule = RULES[rule_id]
    needed, because = _MODEL_RULES[rule_id]
    assert rule(_model_view(), _ROLE, _ACTORS, None) == (True, because)
    for name, value in needed.items():
        assert rule(_model_view(**{name: not value}), _ROLE, _ACTORS, None)[0] is False, name
        if name in ("gpai", "systemic", "exempt"):  # unknown facts: cannot decide
            assert rule(_model_view(**{name: None}), _ROLE, _ACTORS, None)[0] is None, name
    unused = {"placed", "gpai", "systemic", "designated", "exempt"} - set(needed)
    for name in unused:  # and nothing else
        assert rule(_model_view(**{name: not _model_view().__getattribute__(name)}), _ROLE, _ACTORS, None)[0]


@pytest.mark.parametrize(
    ("actor", "applies", "where"),
    [
        ("uslab", True, "uslab is established in US, outside the Union"),
        ("lab", False, "lab is established in FR"),
        ("nobody", None, "nobody's country is not recorded"),
    ],
)
def test_an_eu_representative_is_owed_by_providers_outside_the_union(
    actor: str, applies: bool | None, where: str
) -> None:
    role = ProviderRole(actor, "full", True, "releaser")
    assert RULES["A54.1"](_model_view(), role, _ACTORS, None) == (applies, (where, "G", "E"))
    for name, value in {"placed": False, "gpai": False, "exempt": True}.items():
        outside = ProviderRole("uslab", "full", True, "releaser")
        assert RULES["A54.1"](_model_view(**{name: value}), outside, _ACTORS, None)[0] is False, name


def _system_view(
    placed: bool = True, high_risk: bool = True, legacy: str | None = None, **kw: Any
) -> SystemView:
    fact = system("vendor/bot", **({"provider": "shop", "deployers": ("city", "bank")} | kw))
    return SystemView(
        fact=fact, placed=placed, high_risk=high_risk, high_risk_reason="HR", legacy_note=legacy
    )


def _hits(rule_id: str, view: SystemView) -> list[tuple[str, bool | None, tuple[str, ...]]]:
    return [(h.actor, h.decided, h.because) for h in RULES[rule_id](view, _ACTORS, None)]


def test_transparency_rules_word_for_word() -> None:
    talk = _system_view(interacts_with_persons=True)
    assert _hits("A50.1", talk) == [("shop", True, ("intended to interact directly with natural persons",))]
    assert _hits("A50.1", _system_view(interacts_with_persons=False)) == []
    synthetic = _system_view(synthetic_output=frozenset({"text", "image"}))
    assert _hits("A50.2", synthetic) == [("shop", True, ("generates synthetic image, text",))]
    fake = "generates or manipulates image, audio or video constituting a deep fake (Art. 3(60))"
    for kind in ("image", "audio", "video"):
        view = _system_view(deep_fake=True, synthetic_output=frozenset({kind}))
        assert _hits("A50.4a", view) == [("city", True, (fake,)), ("bank", True, (fake,))]
    contradictory = (
        "contradictory facts: `deep_fake` is set but no synthetic image, audio or video output: cannot decide"
    )
    text_only = _system_view(deep_fake=True, synthetic_output=frozenset({"text"}))
    assert _hits("A50.4a", text_only) == [("city", None, (contradictory,)), ("bank", None, (contradictory,))]
    news = "generates text published to inform the public on matters of public interest"
    published = _system_view(public_interest_text=True, synthetic_output=frozenset({"text"}))
    assert _hits("A50.4b", published) == [("city", True, (news,)), ("bank", True, (news,))]
    unsure = "contradictory facts: `public_interest_text` is set but no synthetic text output: cannot decide"
    no_text = _system_view(public_interest_text=True, synthetic_output=frozenset({"image"}))
    assert _hits("A50.4b", no_text) == [("city", None, (unsure,)), ("bank", None, (unsure,))]


def test_high_risk_duties_cite_the_classification_and_the_legacy_note() -> None:
    assert _hits("A16", _system_view()) == [("shop", True, ("HR",))]
    assert _hits("A16", _system_view(legacy="L")) == [("shop", True, ("HR", "L"))]
    assert _hits("A26", _system_view()) == [("city", True, ("HR",)), ("bank", True, ("HR",))]
    for rule_id in ("A16", "A26", "A27", "A25.1.a", "A25.1.b", "A25.1.c"):
        changed = frozenset({"substantial_modification", "intended_purpose"})
        assert (
            _hits(
                rule_id, _system_view(high_risk=False, annex_iii=frozenset({"employment"}), changes=changed)
            )
            == []
        )
        assert (
            _hits(rule_id, _system_view(placed=False, annex_iii=frozenset({"employment"}), changes=changed))
            == []
        )


def test_a_fria_by_public_bodies_and_for_credit_and_insurance() -> None:
    """Art. 27(1): public-law bodies and public-service providers, and every deployer of Annex III points
    5(b)-(c); never a system of Annex III point 2 alone."""
    deployers = ("city", "bank", "agency", "nobody")  # public, not public, not recorded, unknown actor
    employment = _system_view(annex_iii=frozenset({"employment"}), deployers=deployers)
    assert _hits("A27", employment) == [
        ("city", True, ("city is a body governed by public law (Art. 27(1))",)),
        (
            "agency",
            None,
            ("whether agency is a public body or provides public services is not recorded: cannot decide",),
        ),
        (
            "nobody",
            None,
            ("whether nobody is a public body or provides public services is not recorded: cannot decide",),
        ),
    ]
    point = (
        "Annex III area essential_services: a FRIA is required for points 5(b) credit scoring and "
        "5(c) life/health insurance; the point is not recorded (`annex_iii_points`)"
    )
    agency = "whether agency is a public body or provides public services is not recorded"
    credit = _system_view(annex_iii=frozenset({"essential_services"}), deployers=("bank", "city", "agency"))
    assert _hits("A27", credit) == [
        ("bank", None, (point + ": cannot decide",)),
        ("city", True, ("city is a body governed by public law (Art. 27(1))",)),
        ("agency", None, (f"{point}; {agency}: cannot decide",)),
    ]
    # Annex III point 5(b) recorded: every deployer assesses; another point of area 5: only public ones.
    scoring = _system_view(annex_iii_points=frozenset({"5(b)"}), deployers=("bank", "agency"))
    why = "Annex III point 5(b) creditworthiness or credit scoring: its deployers assess fundamental-rights impact"
    assert _hits("A27", scoring) == [
        ("bank", True, (why + " (Art. 27(1))",)),
        ("agency", True, (why + " (Art. 27(1))",)),
    ]
    triage = _system_view(annex_iii_points=frozenset({"5(d)"}), deployers=("bank", "agency"))
    assert _hits("A27", triage) == [("agency", None, (agency + ": cannot decide",))]
    assert _hits("A27", _system_view(annex_iii=frozenset({"critical_infrastructure"}))) == []
    both = _system_view(annex_iii=frozenset({"critical_infrastructure", "employment"}), deployers=("city",))
    assert _hits("A27", both) == [("city", True, ("city is a body governed by public law (Art. 27(1))",))]


def test_who_becomes_the_provider_of_a_high_risk_system() -> None:
    rebranded = _system_view()  # vendor/bot placed by shop
    why = "shop places vendor/bot, made by vendor, under its own name or trademark"
    assert _hits("A25.1.a", rebranded) == [("shop", True, (why, "HR"))]
    own = SystemView(
        fact=system("shop/bot"), placed=True, high_risk=True, high_risk_reason="HR", legacy_note=None
    )
    assert _hits("A25.1.a", own) == []
    modified = _system_view(changes=frozenset({"substantial_modification"}))
    assert _hits("A25.1.b", modified) == [
        ("shop", True, ("shop substantially modified a high-risk system", "HR"))
    ]
    named = _system_view(changes=frozenset({"substantial_modification"}), modified_from="vendor/bot@1")
    assert _hits("A25.1.b", named) == [("shop", True, ("shop substantially modified vendor/bot@1", "HR"))]
    assert _hits("A25.1.b", _system_view()) == []
    repurposed = _system_view(changes=frozenset({"intended_purpose"}))
    assert _hits("A25.1.c", repurposed) == [
        (
            "shop",
            True,
            ("shop changed the intended purpose of a system that was not high-risk to: (not recorded)", "HR"),
        )
    ]
    purposed = _system_view(
        changes=frozenset({"intended_purpose"}), modified_from="vendor/gpai", intended_purpose="hiring"
    )
    assert _hits("A25.1.c", purposed) == [
        ("shop", True, ("shop changed the intended purpose of vendor/gpai to: hiring", "HR"))
    ]
    assert _hits("A25.1.c", _system_view()) == []
