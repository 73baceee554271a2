"""Downloads of bought weights (issue 11, part 3): each licence gets its own traceable copy of every
weights file, a signed manifest of what it bought, and ``trace`` names the licence of a found file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.core.clock import utcnow
from valuechain.core.errors import ForbiddenError, NotFoundError
from valuechain.market.copies import SigningKey, StampedCopy, read_marks, sign_manifest, stamp
from valuechain.market.models import Licence, LicenceCopy
from valuechain.market.purchases import is_active, visible_licence
from valuechain.registry.catalogue import version_refs
from valuechain.registry.service import artifacts_of, offer_record

BlobPath = Callable[[str], Path]  # sha256 → a local file with those bytes (the hub's blob store)
WEIGHTS = (".gguf", ".safetensors")


def _usable(session: Session, licence_id: str, principal: Principal) -> Licence:
    licence = visible_licence(session, licence_id, principal=principal)
    if licence.buyer_org_id != principal.org_id:
        raise NotFoundError(f"licence {licence_id} not found")
    if not is_active(licence):
        raise ForbiddenError(
            f"your hire {licence.id} expired at {licence.expires_at:%Y-%m-%d %H:%M:%S} UTC; downloads have "
            f"stopped: renew it with `valuechain market renew {licence.id}`"
        )
    return licence


def _files(session: Session, licence: Licence) -> list[Any]:
    offer = offer_record(session, licence.offer_id)
    if offer is None:
        raise NotFoundError(f"the offer of licence {licence.id} no longer exists")
    return artifacts_of(session, offer.version_id)


def _marks(session: Session, licence: Licence) -> dict[str, str]:
    buyer = slugs_for_ids(session, [licence.buyer_org_id]).get(licence.buyer_org_id, "")
    return {"licence_id": licence.id, "buyer": buyer, "offer": licence.offer_id}


def download(
    session: Session, licence_id: str, path: str, *, principal: Principal, blob_path: BlobPath
) -> tuple[StampedCopy | Path, str]:
    """The buyer's copy of one file of what it bought: weights stamped with its licence, others as they are.

    Returns the copy (or the plain file) and its sha256; each stamped copy's hash is recorded for trace.
    """
    licence = _usable(session, licence_id, principal)
    artifact = next((a for a in _files(session, licence) if a.path == path), None)
    if artifact is None:
        raise NotFoundError(f"licence {licence_id} has no file {path}")
    source = blob_path(artifact.sha256)
    if not path.endswith(WEIGHTS):
        return source, artifact.sha256
    copy = stamp(source, path, _marks(session, licence))
    sha = copy.sha256()
    _record_copy(session, licence, path, artifact.sha256, sha)
    return copy, sha


def _record_copy(session: Session, licence: Licence, path: str, source_sha: str, sha: str) -> None:
    exists = session.scalar(
        select(LicenceCopy.id).where(LicenceCopy.licence_id == licence.id, LicenceCopy.path == path)
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                LicenceCopy(
                    licence_id=licence.id,
                    path=path,
                    source_sha256=source_sha,
                    sha256=sha,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        pass  # the same copy recorded by a concurrent download


def manifest(
    session: Session, licence_id: str, *, principal: Principal, blob_path: BlobPath, key: SigningKey
) -> dict[str, Any]:
    """The signed manifest of a licence's files (sha256 of the buyer's own copies), checkable offline."""
    licence = _usable(session, licence_id, principal)
    marks = _marks(session, licence)
    files = []
    for artifact in _files(session, licence):
        sha = artifact.sha256
        if artifact.path.endswith(WEIGHTS):
            sha = stamp(blob_path(artifact.sha256), artifact.path, marks).sha256()
        files.append({"path": artifact.path, "sha256": sha})
    offer = offer_record(session, licence.offer_id)
    model = version_refs(session, [offer.version_id]).get(offer.version_id, "") if offer else ""
    seller = slugs_for_ids(session, [licence.seller_org_id]).get(licence.seller_org_id, "")
    body = {
        **marks,
        "seller": seller,
        "model": model,
        "kind": licence.kind,
        "issued_at": licence.starts_at.isoformat(),
        "files": files,
    }
    return sign_manifest(key, body)


@dataclass(frozen=True, slots=True)
class Trace:
    licence_id: str
    buyer: str
    offer: str
    seller: str
    sold_at: datetime
    matched_by: str  # metadata | sha256


def trace(session: Session, file: Path, *, principal: Principal) -> Trace:
    """Which licence a found file was sold under: for its seller and the operator (others: not found)."""
    import hashlib

    authorize(principal, Action.usage_read)
    marks = read_marks(file)
    licence_id, how = marks.get("licence_id"), "metadata"
    if not licence_id:  # metadata stripped or never there: an unmodified copy still matches its hash
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        licence_id = session.scalar(
            select(LicenceCopy.licence_id).where(LicenceCopy.sha256 == digest.hexdigest())
        )
        how = "sha256"
    licence = session.get(Licence, licence_id) if licence_id else None
    if licence is None or not (principal.is_operator or principal.org_id == licence.seller_org_id):
        raise NotFoundError(f"{file.name} carries no licence of yours")
    slugs = slugs_for_ids(session, {licence.buyer_org_id, licence.seller_org_id})
    return Trace(
        licence_id=licence.id,
        buyer=slugs.get(licence.buyer_org_id, ""),
        offer=licence.offer_id,
        seller=slugs.get(licence.seller_org_id, ""),
        sold_at=licence.starts_at,
        matched_by=how,
    )


def signing_key(home: Path, *, principal: Principal) -> dict[str, str]:
    """The platform's public key that signs sale manifests (base64 of the raw 32 bytes)."""
    authorize(principal, Action.offer_read)
    return {"alg": "Ed25519", "public_key": SigningKey.of_home(home).public_b64()}
