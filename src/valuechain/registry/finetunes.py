"""Registry use cases for the fine-tuning service (issue 12): the customer's private model, its version
with the adapter, the derivation from the base with the measured compute, and the ``api`` offer the
provider serves it through.

The fine-tuning service has already authorised the act (the customer's key created the job on a base it is
entitled to fine-tune); these functions are the registry's only writers for what it records, under the same
event names as ``registry.service``. The customer asked for the work, so the namings it implies (the
provider working on its behalf and offering its model) are recorded confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError
from valuechain.core.ids import new_id
from valuechain.registry import views
from valuechain.registry.claims import Naming, record_claims
from valuechain.registry.models import Artifact, Derivation, Model, ModelVersion, Offer
from valuechain.registry.releases import ArtifactFacts
from valuechain.registry.schemas import ClaimField

RELATION = "finetune"


@dataclass(frozen=True, slots=True)
class FineTuneRecord:
    """What a finished fine-tuning job adds to the registry."""

    slug: str  # the fine_tuned_model name
    base_version_id: str
    customer_org_id: str
    provider_org_id: str
    artifact: ArtifactFacts
    compute_flop: float
    data_summary: str
    notes: str
    offer_terms: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FineTunedModel:
    """Ids of what was recorded."""

    model_id: str
    version_id: str
    offer_id: str


def record_fine_tuned_model(session: Session, record: FineTuneRecord, *, actor: str) -> FineTunedModel:
    """Model (private, owned by the customer), version ``1`` with the adapter, derivation, ``api`` offer."""
    base_version = session.get(ModelVersion, record.base_version_id)
    assert base_version is not None
    base = session.get(Model, base_version.model_id)
    assert base is not None
    if session.scalar(select(Model.id).where(Model.slug == record.slug)) is not None:
        raise ConflictError(f"a registry model called {record.slug} already exists")
    now = utcnow()
    model = Model(
        id=new_id("mdl"),
        slug=record.slug,
        owner_org_id=record.customer_org_id,
        released_by_org_id=record.customer_org_id,
        visibility="private",
        created_at=now,
        updated_at=now,
        **views.facts_to_columns(views.fine_tune_facts(base)),
    )
    session.add(model)
    session.flush()
    event = {"actor": actor, "org_id": record.customer_org_id}
    record_event(
        session,
        action="model.create",
        subject_type="model",
        subject_id=record.slug,
        after=views.model_snapshot(model) | {"source": "finetune"},
        **event,
    )
    version = ModelVersion(id=new_id("ver"), model_id=model.id, label="1", notes=record.notes, created_at=now)
    session.add(version)
    session.flush()
    a = record.artifact
    session.add(Artifact(id=new_id("art"), version_id=version.id, path=a.path, sha256=a.sha256, size=a.size))
    record_event(
        session,
        action="version.create",
        subject_type="version",
        subject_id=f"{record.slug}@1",
        after={
            "label": "1",
            "notes": record.notes,
            "artifacts": [{"path": a.path, "sha256": a.sha256, "size": a.size}],
        },
        **event,
    )
    derivation = _derivation(session, record, version.id, base, base_version, actor=actor)
    offer = _offer(session, record, version.id, actor=actor)
    label = f"{base.slug}@{base_version.label}->{record.slug}@1"
    namings = [
        Naming(
            ClaimField.on_behalf_of,
            "derivation",
            derivation.id,
            label,
            record.provider_org_id,
            record.customer_org_id,
        ),
        Naming(
            ClaimField.offer_upstream,
            "offer",
            offer.id,
            f"{record.slug}@1:api",
            record.provider_org_id,
            record.customer_org_id,
        ),
    ]
    record_claims(session, namings, actor=actor, confirm_reason="requested by the customer's fine-tuning job")
    return FineTunedModel(model_id=model.id, version_id=version.id, offer_id=offer.id)


def _derivation(
    session: Session,
    record: FineTuneRecord,
    version_id: str,
    base: Model,
    base_version: ModelVersion,
    *,
    actor: str,
) -> Derivation:
    derivation = Derivation(
        id=new_id("drv"),
        parent_version_id=base_version.id,
        external_parent=None,
        parent_key=base_version.id,
        child_version_id=version_id,
        relation=RELATION,
        compute_flop=record.compute_flop,
        by_org_id=record.provider_org_id,
        on_behalf_of_org_id=record.customer_org_id,
        data_summary=record.data_summary,
        created_at=utcnow(),
    )
    session.add(derivation)
    session.flush()
    record_event(
        session,
        actor=actor,
        org_id=record.provider_org_id,
        action="derivation.create",
        subject_type="derivation",
        subject_id=derivation.id,
        after={
            "parent": f"{base.slug}@{base_version.label}",
            "external_parent": None,
            "child": f"{record.slug}@1",
            "relation": RELATION,
            "compute_flop": record.compute_flop,
            "on_behalf_of": record.customer_org_id,
            "data_summary": record.data_summary,
        },
    )
    return derivation


def _offer(session: Session, record: FineTuneRecord, version_id: str, *, actor: str) -> Offer:
    offer = Offer(
        id=new_id("off"),
        version_id=version_id,
        by_org_id=record.provider_org_id,
        channel="api",
        brand=record.slug,
        eu=True,
        terms={"api": record.offer_terms},
        created_at=utcnow(),
    )
    session.add(offer)
    session.flush()
    record_event(
        session,
        actor=actor,
        org_id=record.provider_org_id,
        action="offer.create",
        subject_type="offer",
        subject_id=offer.id,
        after={"model": f"{record.slug}@1", "channel": "api", "brand": record.slug, "eu": True},
    )
    return offer
