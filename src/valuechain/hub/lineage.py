"""The registry link: a repo is a registry model, a commit a model version with artifacts, and a card's
``base_model`` a derivation edge. The registry owns those tables; this module only translates hub records
into calls of ``registry.releases``."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from valuechain.hub.cards import CardData
from valuechain.hub.gitmeta import GITATTRIBUTES
from valuechain.hub.models import HubCommit, HubCommitFile, HubRepo
from valuechain.registry import releases
from valuechain.registry.releases import LineageNode
from valuechain.registry.service import OfferRecord

CHANNEL = "hub"


# Hub pipeline tags → output modalities (GL para 17: language, images, video; audio includes speech).
OUTPUTS: dict[str, tuple[str, ...]] = {
    "text-generation": ("text",),
    "text2text-generation": ("text",),
    "automatic-speech-recognition": ("text",),
    "image-to-text": ("text",),
    "text-to-image": ("image",),
    "image-to-image": ("image",),
    "text-to-speech": ("speech",),
    "text-to-audio": ("audio",),
    "text-to-video": ("video",),
}


def ensure_model(session: Session, repo: HubRepo, *, actor: str) -> str:
    """The registry model behind a repo, created on first use (an existing model of the slug is reused)."""
    if repo.model_id is None:
        repo.model_id = releases.ensure_channel_model(
            session,
            slug=repo.repo_id,
            owner_org_id=repo.org_id,
            visibility=repo.visibility,
            actor=actor,
            channel=CHANNEL,
        )
    return repo.model_id


def publish_visibility(session: Session, repo: HubRepo, *, actor: str) -> None:
    """Mirror the repo's visibility onto its model (public weights, gated or not)."""
    if repo.model_id is not None:
        releases.publish_weights(session, model_id=repo.model_id, visibility=repo.visibility, actor=actor)


def rename_model(session: Session, repo: HubRepo, *, actor: str) -> None:
    """A moved repo's registry model takes the new name (lineage edges point at the model, not its name)."""
    if repo.model_id is not None:
        releases.rename_channel_model(session, model_id=repo.model_id, slug=repo.repo_id, actor=actor)


def record_version(
    session: Session,
    *,
    repo: HubRepo,
    commit: HubCommit,
    files: list[HubCommitFile],
    card: CardData | None,
    actor: str,
    label: str | None = None,
) -> str:
    """A model version for the commit (or the one named ``label``), its artifacts, card facts and lineage."""
    model_id = ensure_model(session, repo, actor=actor)
    version_id = releases.record_channel_version(
        session,
        model_id=model_id,
        label=label or commit.id,
        notes=commit.title,
        artifacts=[
            releases.ArtifactFacts(path=f.path, sha256=f.sha256, size=f.size)
            for f in files
            if f.path != GITATTRIBUTES  # git metadata the hub writes, not part of the model
        ],
        actor=actor,
    )
    commit.version_id = version_id
    if card is not None:
        licence = card.license_name if card.license == "other" and card.license_name else card.license
        datasets = ", ".join(card.datasets)
        public = repo.visibility == "public"
        releases.apply_card_facts(
            session,
            model_id=model_id,
            licence=licence,
            training_data_summary=f"datasets: {datasets}" if datasets else None,
            actor=actor,
            architecture_public=public and any(f.path == "config.json" for f in files),
            usage_info_public=public,  # the card itself is the usage information, public with the repo
            output_modalities=OUTPUTS.get(card.pipeline_tag or "", ()),
        )
        releases.record_base_models(
            session,
            version_id=version_id,
            base_models=card.base_models,
            relation=card.relation or "finetune",
            by_org_id=repo.org_id,
            actor=actor,
        )
    return version_id


def parents(session: Session, version_id: str | None) -> list[LineageNode]:
    """Base models of a version: registry models (on this hub) or external ids."""
    return releases.version_parents(session, version_id)


def children(session: Session, model_id: str | None, *, viewer_org_id: str | None) -> list[LineageNode]:
    """Models derived from this model that the viewer may see."""
    return releases.model_children(session, model_id, viewer_org_id=viewer_org_id)


def children_counts(nodes: list[LineageNode]) -> dict[str, int]:
    """``childrenModelCount`` as the Hub shows it: children per relation."""
    return dict(Counter(node.relation for node in nodes))


def open_weights_offer(
    session: Session, *, repo: HubRepo, version_id: str, actor: str, eu: bool
) -> OfferRecord:
    """The ``open_weights`` offer of a released version (one per version, brand and channel)."""
    return releases.open_weights_offer(
        session,
        version_id=version_id,
        by_org_id=repo.org_id,
        brand=repo.namespace,
        eu=eu,
        terms={"visibility": repo.visibility, "gated": repo.gated, "licence": repo.licence},
        actor=actor,
    )
