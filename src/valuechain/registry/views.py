"""Mapping between registry rows, model facts and public schemas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts import directory
from valuechain.registry.manifest import ModelFacts
from valuechain.registry.models import (
    Derivation,
    Model,
    ModelVersion,
    Offer,
    System,
    SystemDeployer,
    SystemModel,
)
from valuechain.registry.schemas import (
    ArtifactIn,
    DerivationPublic,
    ModelPublic,
    OfferPublic,
    SystemPublic,
    VersionPublic,
)

# Fact field → column name, where they differ.
_RENAMED = {"gpai": "gpai_override"}


def facts_to_columns(facts: ModelFacts) -> dict[str, Any]:
    """Column values of a model row from its facts (enums as plain strings)."""
    data = facts.model_dump(include=set(ModelFacts.model_fields), mode="json")
    data["eu_market"] = facts.eu_market
    return {_RENAMED.get(k, k): v for k, v in data.items()}


def columns_to_facts(model: Model) -> dict[str, Any]:
    """The facts of a model row, keyed by fact field name."""
    return {field: getattr(model, _RENAMED.get(field, field)) for field in ModelFacts.model_fields}


def marketed_as(channel: str, terms: dict[str, Any] | None) -> str | None:
    """A white-label offer's own model name, under which its reseller markets it (issue 11): the channels
    domain sets it in the offer's terms (``white_label.model_name``), a manifest's ``marketed_as`` too."""
    if channel != "white_label":
        return None
    section = (terms or {}).get("white_label")
    name = section.get("model_name") if isinstance(section, dict) else None
    return str(name) if name else None


def with_marketed_as(terms: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """``terms`` with the white-label model name set (the rest of the reseller's terms kept)."""
    section = (terms or {}).get("white_label")
    return {
        **(terms or {}),
        "white_label": {**(section if isinstance(section, dict) else {}), "model_name": name},
    }


def model_snapshot(model: Model) -> dict[str, Any]:
    """What the audit log keeps of a model."""
    return {"slug": model.slug, "visibility": model.visibility, **columns_to_facts(model)}


class Names:
    """Resolves ids to the names users see (org slugs, ``org/name@label`` refs), with a cache."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._orgs: dict[str, str] = {}
        self._versions: dict[str, str] = {}

    def org(self, org_id: str | None) -> str | None:
        if org_id is None:
            return None
        if org_id not in self._orgs:
            self._orgs[org_id] = directory.slugs_for_ids(self.session, [org_id]).get(org_id, "")
        return self._orgs[org_id]

    def prefetch_orgs(self, org_ids: Iterable[str | None]) -> None:
        """Resolve the slugs of many organisations in one query (a listing then asks no more)."""
        missing = {i for i in org_ids if i is not None and i not in self._orgs}
        found = directory.slugs_for_ids(self.session, missing)
        self._orgs.update({org_id: found.get(org_id, "") for org_id in missing})

    def version(self, version_id: str | None) -> str | None:
        if version_id is None:
            return None
        if version_id not in self._versions:
            row = self.session.execute(
                select(Model.slug, ModelVersion.label)
                .join(ModelVersion, ModelVersion.model_id == Model.id)
                .where(ModelVersion.id == version_id)
            ).one()
            self._versions[version_id] = f"{row[0]}@{row[1]}"
        return self._versions[version_id]


def model_public(session: Session, model: Model, names: Names | None = None) -> ModelPublic:
    names = names or Names(session)
    facts = ModelFacts.model_validate(columns_to_facts(model))
    labels = session.scalars(
        select(ModelVersion.label).where(ModelVersion.model_id == model.id).order_by(ModelVersion.created_at)
    )
    owner = names.org(model.owner_org_id) or ""
    return ModelPublic(
        **facts.model_dump(),
        id=model.slug,
        owner=owner,
        released_by=names.org(model.released_by_org_id) or owner,
        visibility=model.visibility,
        training_compute_method=facts.training_compute_estimate()[1],
        versions=list(labels),
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def version_public(model: str, version: ModelVersion, artifacts: list[Any]) -> VersionPublic:
    """``model`` is the ``<org>/<name>`` the version belongs to (already resolved by the caller)."""
    return VersionPublic(
        model=model,
        label=version.label,
        notes=version.notes,
        artifacts=[
            ArtifactIn(path=a.path, sha256=a.sha256, size=a.size, media_type=a.media_type) for a in artifacts
        ],
        created_at=version.created_at,
    )


def derivation_public(derivation: Derivation, names: Names) -> DerivationPublic:
    return DerivationPublic(
        id=derivation.id,
        parent=names.version(derivation.parent_version_id),
        external_parent=derivation.external_parent,
        child=names.version(derivation.child_version_id) or "",
        relation=derivation.relation,  # type: ignore[arg-type]
        compute_flop=derivation.compute_flop,
        by=names.org(derivation.by_org_id) or "",
        on_behalf_of=names.org(derivation.on_behalf_of_org_id),
        data_summary=derivation.data_summary,
        created_at=derivation.created_at,
    )


def system_public(session: Session, system: System, names: Names) -> SystemPublic:
    deployers = session.scalars(select(SystemDeployer.org_id).where(SystemDeployer.system_id == system.id))
    versions = session.scalars(select(SystemModel.version_id).where(SystemModel.system_id == system.id))
    return SystemPublic(
        id=system.slug,
        provider=names.org(system.provider_org_id) or "",
        deployers=sorted(names.org(d) or "" for d in deployers),
        models=sorted(names.version(v) or "" for v in versions),
        intended_purpose=system.intended_purpose,
        interacts_with_persons=system.interacts_with_persons,
        synthetic_output=system.synthetic_output,  # type: ignore[arg-type]
        deep_fake=system.deep_fake,
        public_interest_text=system.public_interest_text,
        annex_iii=system.annex_iii,  # type: ignore[arg-type]
        eu_market=system.eu_market,
        created_at=system.created_at,
    )


def offer_public(offer: Offer, names: Names) -> OfferPublic:
    return OfferPublic(
        id=offer.id,
        model=names.version(offer.version_id) or "",
        by=names.org(offer.by_org_id) or "",
        channel=offer.channel,  # type: ignore[arg-type]
        brand=offer.brand,
        eu=offer.eu,
        created_at=offer.created_at,
    )


def fine_tune_facts(base: Model) -> ModelFacts:
    """The facts a fine-tune inherits from its base: size, architecture, outputs, licence; nothing of the
    base's release (the fine-tune is private and not placed on any market until its owner says so)."""
    facts = columns_to_facts(base)
    keep = ("parameters", "output_modalities", "licence", "licence_terms", "gpai")
    return ModelFacts.model_validate({k: facts[k] for k in keep} | {"architecture_public": False})
