"""Facts from the channels (issue 13 point 2): white-label brands, resale and customer-specific commissioning
decide who the provider is under Art. 3(3) ("develops ... or has it developed and places it on the market
... under its own name or trademark"), with the reasoning spelled out where the law is unsettled."""

from __future__ import annotations

from tests.compliance.builders import AS_OF, chain, model, system
from valuechain.compliance.engine import evaluate
from valuechain.compliance.facts import DerivationFact, OfferFact


def _duties(result, actor: str, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {o.rule: o.status for o in result.obligations if o.actor == actor and o.subject == subject}


def test_white_label_under_the_resellers_brand_is_unsettled() -> None:
    """Art. 3(3): a reseller placing the model under its own trademark meets the name limb but neither
    develops nor commissions it; no text addresses white-labelled models (Art. 25(1)(a) covers high-risk
    systems only, GL §3.1 is silent): its Art. 53 duties read "cannot decide", with that reason; the
    developer stays provider (its duties are unchanged)."""
    offers = [
        OfferFact("lab/m", "lab", "api"),
        OfferFact("lab/m", "reseller", "white_label", brand="Resell AI"),
    ]
    result = evaluate(chain(model(), offers=offers), as_of=AS_OF)
    reseller = _duties(result, "reseller", "lab/m")
    assert reseller and set(reseller.values()) == {"cannot decide"}
    ob = next(o for o in result.obligations if o.actor == "reseller" and o.rule == "A53.1.a")
    assert "unsettled under Art. 3(3)" in ob.because[0] and "Resell AI" in ob.because[0]
    assert len(ob.because[0]) < 220  # short reasons (issue 13 point 5)
    assert _duties(result, "lab", "lab/m")["A53.1.a"] != "cannot decide"


def test_resale_under_the_original_brand_adds_no_provider() -> None:
    """A distributor reselling under the developer's name does not place it under its own name (Art. 3(3))."""
    for brand in ("lab", "Lab SAS", None):
        offers = [OfferFact("lab/m", "reseller", "marketplace", brand=brand or "lab")]
        result = evaluate(chain(model(), offers=offers), as_of=AS_OF)
        assert _duties(result, "reseller", "lab/m") == {}, brand


def test_customer_specific_offer_makes_the_customer_provider() -> None:
    """Art. 3(3) "has it developed": a model made for a customer and placed under the customer's name has the
    customer as provider (decided), beside the developer that released it."""
    offers = [OfferFact("contractor/m", "contractor", "customer_specific", brand="Bank SpA")]
    result = evaluate(chain(model("contractor/m"), offers=offers), as_of=AS_OF)
    bank = _duties(result, "bank", "contractor/m")
    assert bank and "cannot decide" not in bank.values()
    ob = next(o for o in result.obligations if o.actor == "bank")
    assert "Art. 3(3)" in " ".join(ob.because) and "customer_specific" in " ".join(ob.because)


def test_commissioned_fine_tune_is_the_commissioners_under_its_brand() -> None:
    """GL paras 60-61 with Art. 3(3): a fine-tune made on behalf of ``shop`` (derivation on_behalf_of) is
    shop's modification; its white-label offer under shop's name is then no unsettled resale."""
    derivation = DerivationFact("lab/m", "contractor/ft", "contractor", "finetune", 1e23, on_behalf_of="shop")
    offers = [OfferFact("contractor/ft", "shop", "white_label", brand="Shop SA")]
    facts = chain(model(), model("contractor/ft", training_compute_flop=None), derivations=[derivation],
                  offers=offers)  # fmt: skip
    result = evaluate(facts, as_of=AS_OF)
    shop = _duties(result, "shop", "contractor/ft")
    assert shop and "cannot decide" not in shop.values()


def test_name_on_a_high_risk_system_makes_the_reseller_provider() -> None:
    """Art. 25(1)(a): a name or trademark put on a high-risk system makes that actor its provider."""
    original = system("vendor/hr", annex_iii=frozenset({"employment"}))
    branded = system("reseller/hr", annex_iii=frozenset({"employment"}), modified_from="vendor/hr",
                     changes=frozenset({"rebrand"}))  # fmt: skip
    result = evaluate(chain(model(), systems=[original, branded]), as_of=AS_OF)
    assert any(o.actor == "reseller" and o.rule.startswith("A25.1") for o in result.obligations)
