"""Registry → chain manifest (format v1), optionally limited to what one organisation may see."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from valuechain.accounts import directory
from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.principal import Principal
from valuechain.registry import views
from valuechain.registry.claims import Consent
from valuechain.registry.manifest import (
    ChainManifest,
    ManifestActor,
    ManifestDerivation,
    ManifestModel,
    ManifestOffer,
    ManifestResale,
    ManifestSystem,
)
from valuechain.registry.models import (
    Agreement,
    Claim,
    Derivation,
    Model,
    ModelVersion,
    Offer,
    System,
    SystemDeployer,
    SystemModel,
)
from valuechain.registry.schemas import ClaimField

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def export_visible(session: Session, *, principal: Principal) -> ChainManifest:
    """The part of the chain ``principal`` may see (everything for an operator)."""
    authorize(principal, Action.model_read)
    return export_manifest(session, org_id=None if principal.is_operator else principal.org_id)


def export_manifest(
    session: Session, *, org_id: str | None = None, consent: Consent | None = None
) -> ChainManifest:
    """The registry as a manifest; with ``org_id``, only records that organisation may see.

    With ``consent`` (:func:`valuechain.registry.claims.consent`), namings the named organisation has not
    confirmed are left out: unconfirmed releasers, deployers and commissioning organisations, derivations
    from another's model and offers of another's model. The engine then attaches nothing to them.
    """
    consent = consent or Consent()
    orgs = directory.all_org_slugs(session)
    query = select(Model).order_by(Model.slug)
    if org_id is not None:
        query = query.where(or_(Model.owner_org_id == org_id, Model.visibility == "public"))
    rows = list(session.scalars(query))
    model_slugs = {m.id: m.slug for m in rows}
    refs, default_label = _version_refs(session, model_slugs)
    models = [
        _manifest_model(m, orgs, default_label[m.slug], consent) for m in rows if m.slug in default_label
    ]
    derivations = _derivations(session, refs, orgs, consent)
    offers = sorted(
        (
            ManifestOffer(
                model=refs[o.version_id],
                by=orgs[o.by_org_id],
                channel=o.channel,
                brand=_brand(o, orgs),
                eu=o.eu,
                marketed_as=views.marketed_as(o.channel, o.terms),
            )
            for o in session.scalars(select(Offer))
            if o.version_id in refs
            and consent.counts(ClaimField.offer_upstream, o.id)
            and (org_id is None or o.by_org_id == org_id or o.channel != "customer_specific")
        ),
        key=lambda o: (o.model, o.by, o.channel.value, o.brand or ""),
    )
    systems = _systems(session, refs, orgs, org_id, consent)
    used = {org_id} if org_id else set(orgs)
    used |= {m.owner_org_id for m in rows} | {m.released_by_org_id for m in rows if m.released_by_org_id}
    used |= {orgs_id for orgs_id, slug in orgs.items() if _mentioned(slug, derivations, offers, systems)}
    actors = [
        ManifestActor(
            id=o.slug, name=o.name, country=o.country, sme=o.is_sme, microenterprise=o.is_microenterprise
        )
        for o in directory.all_orgs(session)
        if o.id in used
    ]
    return ChainManifest(
        valuechain=1, actors=actors, models=models, derivations=derivations, offers=offers, systems=systems
    )


def _version_refs(session: Session, model_slugs: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Version id → ref (plain slug for a model's latest version, ``slug@label`` otherwise)."""
    versions = session.execute(
        select(ModelVersion.id, ModelVersion.model_id, ModelVersion.label).order_by(
            ModelVersion.created_at, ModelVersion.id
        )
    )
    by_model: dict[str, list[tuple[str, str]]] = {}
    for version_id, model_id, label in versions:
        if model_id in model_slugs:
            by_model.setdefault(model_id, []).append((version_id, label))
    refs: dict[str, str] = {}
    default_label: dict[str, str] = {}
    for model_id, items in by_model.items():
        slug, latest = model_slugs[model_id], items[-1][1]
        default_label[slug] = latest
        for version_id, label in items:
            refs[version_id] = slug if label == latest else f"{slug}@{label}"
    return refs, default_label


def _manifest_model(model: Model, orgs: dict[str, str], label: str, consent: Consent) -> ManifestModel:
    released_by = model.released_by_org_id
    if released_by and not consent.counts(ClaimField.released_by, model.id, released_by):
        released_by = None
    return ManifestModel(
        id=model.slug,
        released_by=orgs[released_by] if released_by else None,
        version=label,
        public=model.visibility == "public",
        **views.columns_to_facts(model),
    )


def _derivations(
    session: Session, refs: dict[str, str], orgs: dict[str, str], consent: Consent
) -> list[ManifestDerivation]:
    out = []
    for d in session.scalars(select(Derivation)):
        if not consent.counts(ClaimField.parent_supplier, d.id):
            continue  # the parent's owner has not confirmed: the child is assessed on its own
        on_behalf = d.on_behalf_of_org_id
        if on_behalf and not consent.counts(ClaimField.on_behalf_of, d.id, on_behalf):
            on_behalf = None
        if d.parent_version_id in refs and d.child_version_id in refs:
            out.append(
                ManifestDerivation(
                    parent=refs[d.parent_version_id],
                    child=refs[d.child_version_id],
                    by=orgs[d.by_org_id],
                    relation=d.relation,
                    compute_flop=d.compute_flop,
                    on_behalf_of=orgs[on_behalf] if on_behalf else None,
                    data_summary=d.data_summary,
                )
            )
    return sorted(out, key=lambda d: (d.parent, d.child))


def _systems(
    session: Session, refs: dict[str, str], orgs: dict[str, str], org_id: str | None, consent: Consent
) -> list[ManifestSystem]:
    deployers: dict[str, list[str]] = {}
    for system_id, deployer in session.execute(select(SystemDeployer.system_id, SystemDeployer.org_id)):
        deployers.setdefault(system_id, []).append(deployer)
    versions: dict[str, list[str]] = {}
    for system_id, version_id in session.execute(select(SystemModel.system_id, SystemModel.version_id)):
        versions.setdefault(system_id, []).append(version_id)
    out = []
    for s in session.scalars(select(System).order_by(System.slug)):
        if org_id is not None and s.provider_org_id != org_id and org_id not in deployers.get(s.id, []):
            continue
        out.append(
            ManifestSystem(
                id=s.slug,
                provider=orgs[s.provider_org_id],
                deployers=sorted(
                    orgs[d] for d in deployers.get(s.id, []) if consent.counts(ClaimField.deployer, s.id, d)
                ),
                models=sorted(refs[v] for v in versions.get(s.id, []) if v in refs),
                intended_purpose=s.intended_purpose,
                interacts_with_persons=s.interacts_with_persons,
                synthetic_output=s.synthetic_output,
                deep_fake=s.deep_fake,
                public_interest_text=s.public_interest_text,
                annex_iii=s.annex_iii,
                eu_market=s.eu_market,
            )
        )
    return out


def resale_entries(session: Session, *, consent: Consent) -> list[ManifestResale]:
    """What lets each counted white-label offer of another's model be resold (manifest format 2 ``resale``).

    Its registry agreement (named in the offer's ``white_label`` terms, which the channels domain fills
    from the reseller terms: the brand they ask for and the expiry; or in the claim it confirmed), else the
    confirmation of the offer's claim by the model's owner or an operator's import (an agreement with no
    terms). Offers whose claim does not count are not in the chain, so they need none.
    """
    rows = [
        (offer, slug, owner)
        for offer, slug, owner in session.execute(
            select(Offer, Model.slug, Model.owner_org_id)
            .join(ModelVersion, ModelVersion.id == Offer.version_id)
            .join(Model, Model.id == ModelVersion.model_id)
            .where(Offer.channel == "white_label", Offer.by_org_id != Model.owner_org_id)
        )
        if consent.counts(ClaimField.offer_upstream, offer.id)
    ]
    if not rows:
        return []
    claims = {
        c.subject_id: c
        for c in session.scalars(
            select(Claim).where(
                Claim.field == ClaimField.offer_upstream.value,
                Claim.subject_id.in_([o.id for o, _, _ in rows]),
            )
        )
    }
    named = {o.id: _agreement_id(o, claims.get(o.id)) for o, _, _ in rows}
    agreements = {
        a.id: a for a in session.scalars(select(Agreement).where(Agreement.id.in_(set(named.values()))))
    }
    orgs = directory.all_org_slugs(session)
    out: dict[tuple[str, ...], ManifestResale] = {}
    for offer, slug, owner in rows:
        terms, agreement, claim = (
            _white_label(offer),
            agreements.get(named[offer.id] or ""),
            claims.get(offer.id),
        )
        if agreement is not None:
            entry = ManifestResale(
                provider=orgs[agreement.owner_org_id],
                reseller=orgs[agreement.agent_org_id],
                model=slug,
                brand=terms.get("resale_brand") or "own",
                valid_from=agreement.created_at.date(),
                valid_until=_last_day(terms.get("expires_at")),
                revoked_on=agreement.revoked_at.date() if agreement.revoked_at else None,
                agreement=agreement.id,
            )
        else:
            decided = claim.decided_at if claim is not None else None
            entry = ManifestResale(
                provider=orgs[owner],
                reseller=orgs[offer.by_org_id],
                model=slug,
                valid_from=decided.date() if decided else None,
            )
        out[(entry.provider, entry.reseller, slug, entry.agreement or "")] = entry
    return [out[k] for k in sorted(out)]


def _white_label(offer: Offer) -> dict[str, Any]:
    section = (offer.terms or {}).get("white_label")
    return section if isinstance(section, dict) else {}


def _agreement_id(offer: Offer, claim: Claim | None) -> str | None:
    named = _white_label(offer).get("agreement_id")
    if named:
        return str(named)
    decided = claim.decided_by if claim is not None else None
    return decided.removeprefix("agreement:") if decided and decided.startswith("agreement:") else None


def _last_day(expires_at: object) -> date | None:
    """The last day an agreement ending at ``expires_at`` (an ISO instant) holds."""
    if not expires_at:
        return None
    return (datetime.fromisoformat(str(expires_at)) - timedelta(microseconds=1)).date()


def _brand(offer: Offer, orgs: dict[str, str]) -> str | None:
    return None if offer.brand == orgs[offer.by_org_id] else offer.brand


def _mentioned(slug: str, derivations: list[Any], offers: list[Any], systems: list[Any]) -> bool:
    return (
        any(slug in (d.by, d.on_behalf_of) for d in derivations)
        or any(o.by == slug for o in offers)
        or any(s.provider == slug or slug in s.deployers or s.id.startswith(slug + "/") for s in systems)
    )


_FIRST_KEYS = ("id", "released_by", "version", "public")


class _ManifestDumper(_Dumper):  # type: ignore[misc,valid-type]
    """Writes large and tiny floats in scientific notation (7.0e+09, as people write compute)."""


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    if (
        value != 0
        and (abs(value) >= 1e6 or abs(value) < 1e-4)
        and value == value
        and abs(value) != float("inf")
    ):
        for digits in range(1, 18):
            text = f"{value:.{digits}e}"
            if float(text) == value:
                return dumper.represent_scalar("tag:yaml.org,2002:float", text)
    return dumper.represent_float(value)


_ManifestDumper.add_representer(float, _represent_float)


def _plain(value: Any) -> Any:
    """Enums to their values; dates stay dates so YAML writes them unquoted."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


# What PyYAML leaves raw with ``allow_unicode`` although a terminal acts on it (bidi overrides, line and
# paragraph separators; it escapes C0 and C1 controls itself): such a manifest is written with \u escapes.
_TERMINAL_UNSAFE = re.compile(r"[\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def manifest_to_yaml(manifest: ChainManifest) -> str:
    """Readable YAML: defaults omitted, ids first, one record per list item."""
    data = _plain(manifest.model_dump(exclude_defaults=True))
    data["valuechain"] = 1
    data["models"] = [
        {**{k: m[k] for k in _FIRST_KEYS if k in m}, **{k: v for k, v in m.items() if k not in _FIRST_KEYS}}
        for m in data.get("models", [])
    ]
    ordered = {
        k: data[k]
        for k in ("valuechain", "as_of", "actors", "models", "derivations", "offers", "systems")
        if k in data
    }
    text = yaml.dump(ordered, Dumper=_ManifestDumper, sort_keys=False, allow_unicode=True, width=100)
    if _TERMINAL_UNSAFE.search(text):  # issue 17: never hand a terminal a raw bidi override
        text = yaml.dump(ordered, Dumper=_ManifestDumper, sort_keys=False, allow_unicode=False, width=100)
    return text
