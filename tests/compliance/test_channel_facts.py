"""Facts from the channels (issue 13 point 2): white-label brands, resale and customer-specific commissioning
decide who the provider is under Art. 3(3) ("develops ... or has it developed and places it on the market
... under its own name or trademark"), with the reasoning spelled out where the law is unsettled."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.compliance.builders import AS_OF, chain, model, system
from valuechain.compliance.engine import Engine, evaluate
from valuechain.compliance.facts import DerivationFact, OfferFact, ResaleFact, facts_from_manifest
from valuechain.registry.check import ManifestError, parse_manifest


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


# -- resale agreements (issue 13 point 2): the reseller terms of issue 11 as facts ---------------------------

WHITE_LABEL = OfferFact("lab/m", "reseller", "white_label", brand="Resell AI", marketed_as="resell-1")
OWN = ResaleFact("lab", "reseller", "lab/m", "own", valid_from=date(2025, 10, 1), agreement="agr_1")


def _because(result, actor: str, rule: str = "A53.1.a") -> str:  # type: ignore[no-untyped-def]
    return next(o for o in result.obligations if o.actor == actor and o.rule == rule).because[0]


def test_an_agreement_asking_for_the_upstream_name_leaves_the_reseller_no_provider() -> None:
    """Art. 3(3) "under its own name or trademark": a reseller bound to sell under the provider's name and the
    model's name puts no name of its own on it, so the name limb fails: decided, no duties for the reseller,
    the reason says so; the provider's duties are unchanged."""
    upstream = replace(OWN, brand="upstream")
    offer = replace(WHITE_LABEL, brand="Lab SAS", marketed_as="m")
    result = evaluate(chain(model(), offers=[offer], resale=[upstream]), as_of=AS_OF)
    assert _duties(result, "reseller", "lab/m") == {}
    view = next(v for v in result.models if v.fact.id == "lab/m")
    note = next(b for b in view.because if b.startswith("reseller resells"))
    assert "not a provider (Art. 3(3))" in note and "lab's agreement asks" in note and len(note) < 220
    assert _duties(result, "lab", "lab/m")["A53.1.b"] not in ("cannot decide", None)


def test_an_own_brand_agreement_leaves_the_question_open_and_cites_the_agreement() -> None:
    """Art. 3(3) with GL section 3.1 silent on resale: under the reseller's own brand, with the provider's
    agreement, whether the reseller is a provider stays unsettled ("cannot decide"); the reason cites the
    agreement and says the upstream provider keeps its Art. 53 duties, the Annex XII information owed to the
    reseller included (Art. 53(1)(b))."""
    until = replace(OWN, valid_until=date(2027, 6, 30))
    result = evaluate(chain(model(), offers=[WHITE_LABEL], resale=[until]), as_of=AS_OF)
    assert set(_duties(result, "reseller", "lab/m").values()) == {"cannot decide"}
    reason = _because(result, "reseller")
    assert "lab's agreement until 2027-06-30" in reason and "unsettled under Art. 3(3)" in reason
    assert "keeps its Art. 53 duties, Annex XII to reseller" in reason and len(reason) < 240
    lab = _duties(result, "lab", "lab/m")
    assert lab["A53.1.b"] not in ("cannot decide", None) and lab["A53.1.a"] not in ("cannot decide", None)


@pytest.mark.parametrize(
    ("agreements", "why"),
    [
        ([], "none recorded"),
        ([replace(OWN, valid_until=AS_OF - timedelta(days=1))], "agreement expired after 2026-11-27"),
        ([replace(OWN, revoked_on=date(2026, 6, 1))], "agreement revoked on 2026-06-01"),
        ([replace(OWN, valid_from=AS_OF + timedelta(days=1))], "agreement valid only from 2026-11-29"),
        ([replace(OWN, brand="upstream")], "its agreement asks for the upstream name"),
        ([replace(OWN, provider="tuner")], "none recorded"),  # only the model's provider can agree
    ],
)
def test_a_white_label_offer_no_agreement_covers_is_the_resellers_own_placing(
    agreements: list[ResaleFact], why: str
) -> None:
    """Art. 3(3): with every agreement recorded and none covering it on the evaluation date (none, expired,
    revoked, not yet valid, or one asking for the upstream name), the reseller places the model under its
    own name without the provider's authorisation: it is a provider (decided), and the reason says no
    agreement covers it and why."""
    result = evaluate(chain(model(), offers=[WHITE_LABEL], resale=agreements), as_of=AS_OF)
    duties = _duties(result, "reseller", "lab/m")
    assert duties and "cannot decide" not in duties.values()
    reason = _because(result, "reseller")
    assert f"no agreement covers it ({why})" in reason and "without authorisation" in reason
    assert "Art. 3(3)" in reason and len(reason) < 240


def test_unrecorded_agreements_keep_the_unsettled_reading_and_every_completion_agrees() -> None:
    """Issue 13 point 3: with agreements not recorded (format 1), the Kleene answer "cannot decide" is the
    sound one: completing the unknown agreement gives "cannot decide" (an own-brand agreement, Art. 3(3)
    unsettled) or "applies" (none: the reseller's own placing), never "applies" in every completion."""
    unknown = Engine(chain(model(), offers=[WHITE_LABEL]), as_of=AS_OF, sound=False).evaluate()
    statuses = {o.key: o.status for o in unknown.obligations if o.actor == "reseller"}
    assert statuses and set(statuses.values()) == {"cannot decide"}
    outcomes: dict[tuple[str, str, str], set[str]] = {key: set() for key in statuses}
    for completion in ([OWN], [], [replace(OWN, brand="upstream")]):
        done = Engine(chain(model(), offers=[WHITE_LABEL], resale=completion), as_of=AS_OF, sound=False)
        found = {o.key: o.status for o in done.evaluate().obligations if o.actor == "reseller"}
        for key in statuses:
            outcomes[key].add(
                ("undecided" if found[key] == "cannot decide" else "applies") if key in found else "absent"
            )
    assert all(seen == {"undecided", "applies"} for seen in outcomes.values())
    # the sound engine carries known agreements into every completion of an unknown compute
    gap = chain(model(training_compute_flop=None, gpai=True), offers=[WHITE_LABEL], resale=[])
    sound = {o.key: o.status for o in evaluate(gap, as_of=AS_OF).obligations if o.actor == "reseller"}
    assert sound and "cannot decide" not in {sound[k] for k in sound if k[2] == "A53.1.a"}


RESALE_MANIFEST = """\
valuechain: {version}
actors:
  - {{id: lab, name: Lab SAS, country: FR}}
  - {{id: reseller, name: Reseller SRL, country: IT}}
models:
  - {{id: lab/m, training_compute_flop: 2.0e+23, output_modalities: [text], eu_market: 2025-09-01}}
offers:
  - {{model: lab/m, by: reseller, channel: white_label, brand: Resell AI}}
{resale}"""


def test_the_manifest_carries_resale_agreements_in_format_2_only() -> None:
    """Manifest format 2 adds a ``resale`` section (listing it says every agreement is recorded); format 1
    is still read (agreements unknown) and refuses the section; references are checked."""
    v1 = facts_from_manifest(parse_manifest(RESALE_MANIFEST.format(version=1, resale="")))
    assert v1.resale is None
    entry = "resale:\n  - {provider: lab, reseller: reseller, model: lab/m, valid_until: 2026-06-30}\n"
    v2 = facts_from_manifest(parse_manifest(RESALE_MANIFEST.format(version=2, resale=entry)))
    assert v2.resale == (ResaleFact("lab", "reseller", "lab/m", "own", valid_until=date(2026, 6, 30)),)
    result = evaluate(v2, as_of=AS_OF)
    assert "no agreement covers it (agreement expired after 2026-06-30)" in _because(result, "reseller")
    assert (
        facts_from_manifest(parse_manifest(RESALE_MANIFEST.format(version=2, resale="resale: []\n"))).resale
        == ()
    )
    with pytest.raises(ManifestError, match="resale needs `valuechain: 2`"):
        parse_manifest(RESALE_MANIFEST.format(version=1, resale=entry))
    bad = "resale:\n  - {provider: reseller, reseller: nobody, model: lab/x, brand: upstream}\n"
    with pytest.raises(ManifestError) as problems:
        parse_manifest(RESALE_MANIFEST.format(version=2, resale=bad))
    text = str(problems.value)
    assert "unknown actor `nobody`" in text and "unknown model `lab/x`" in text
    wrong = "resale:\n  - {provider: reseller, reseller: lab, model: lab/m, brand: elsewhere}\n"
    with pytest.raises(ManifestError, match="brand"):
        parse_manifest(RESALE_MANIFEST.format(version=2, resale=wrong))
    owner = "resale:\n  - {provider: reseller, reseller: lab, model: lab/m}\n"
    with pytest.raises(ManifestError, match="neither owns nor releases"):
        parse_manifest(RESALE_MANIFEST.format(version=2, resale=owner))


REGISTRY_CHAIN = """\
valuechain: 1
actors:
  - {id: lab, name: Lab SAS, country: FR}
  - {id: resell, name: Resell SRL, country: IT}
  - {id: second, name: Second SRL, country: IT}
models:
  - {id: lab/orca, public: true, training_compute_flop: 2.0e+23, output_modalities: [text], eu_market: 2025-09-01}
  - {id: resell/house, public: true}     # public actors: others may name them (issue 9)
  - {id: second/house, public: true}
"""


def _owner(db, slug: str):  # type: ignore[no-untyped-def]
    from valuechain.accounts.directory import org_id_for_slug
    from valuechain.accounts.principal import Principal
    from valuechain.accounts.roles import Role, Scope

    with db.session() as session:
        org_id = org_id_for_slug(session, slug)
    return Principal(org_id=org_id, org_slug=slug, key_id=None, user_id="cli", role=Role.owner,
                     scopes=frozenset(Scope))  # fmt: skip


def test_the_registry_reads_reseller_agreements_as_facts(db) -> None:  # type: ignore[no-untyped-def]
    """Issue 13 point 2 through the registry: a reseller agreement granted in the channels domain is a fact
    of the chain (without compliance importing channels: the registry agreement and the terms the channels
    domain puts on the white-label offer). Own brand: unsettled under Art. 3(3), citing the agreement;
    revoked: no agreement covers the offer, the reseller is a provider; an agreement asking for the
    upstream name (brand rules enforce it): the reseller is not a provider."""
    from valuechain.accounts.principal import system_principal
    from valuechain.channels import whitelabel
    from valuechain.compliance.service import list_obligations
    from valuechain.core.errors import ValidationError
    from valuechain.registry import claims
    from valuechain.registry.chain import import_manifest

    with db.unit_of_work() as session:
        import_manifest(session, parse_manifest(REGISTRY_CHAIN), principal=system_principal())
    lab = _owner(db, "lab")

    def grant(reseller: str, **rules: object) -> str:
        data = whitelabel.ResellerGrant(
            reseller=reseller, model="lab/orca", wholesale_input_per_mtok=1, wholesale_output_per_mtok=1,
            max_markup_pct=50, max_customers=5, brand_rules=whitelabel.BrandRules(**rules),  # type: ignore[arg-type]
        )  # fmt: skip
        with db.unit_of_work() as session:
            return whitelabel.grant_reseller(session, data, principal=lab).agreement_id

    def resell(agreement: str, who: str, brand: str, name: str) -> None:
        data = whitelabel.WhiteLabelCreate(agreement=agreement, model_name=name, brand=brand, markup_pct=10)
        with db.unit_of_work() as session:
            whitelabel.create_white_label(session, data, principal=_owner(db, who), fee_bps=1000)

    def obligations():  # type: ignore[no-untyped-def]
        with db.session() as session:
            return list_obligations(session, principal=None)

    own = grant("resell")
    resell(own, "resell", "Resell AI", "resell-chat")
    result = obligations()
    assert set(_duties(result, "resell", "lab/orca").values()) == {"cannot decide"}
    assert "by lab's agreement" in _because(result, "resell")

    with db.unit_of_work() as session:
        claims.revoke_agreement(session, own, principal=lab)
    result = obligations()
    duties = _duties(result, "resell", "lab/orca")
    assert duties and "cannot decide" not in duties.values()
    assert "no agreement covers it (agreement revoked on" in _because(result, "resell")

    upstream = grant("second", upstream_name_required=True)
    with pytest.raises(ValidationError, match="provider's name as the brand"):
        resell(upstream, "second", "Second AI", "orca-second")
    resell(upstream, "second", "Lab SAS", "orca-second")
    result = obligations()
    assert _duties(result, "second", "lab/orca") == {}
    view = next(v for v in result.models if v.fact.id == "lab/orca")
    assert any(b.startswith("second resells lab/orca under lab's name") for b in view.because)
