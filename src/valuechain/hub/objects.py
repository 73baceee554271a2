"""Per-repo content (issue 9): blobs are shared on disk by sha256, but each repo records the LFS objects it
holds. A commit may reference an object only if its repo holds it (uploaded or committed there) or the
committer can read, and download from, a repo that holds it; knowing a sha256 grants nothing. The LFS batch
answer is computed from this repo alone, so it never tells whether an object exists elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.core.errors import ValidationError
from valuechain.hub.commits import CommitRequest, FileChange, LfsReference, lfs_git_oid
from valuechain.hub.models import HubRepo, HubRepoObject
from valuechain.hub.repos import has_download_access
from valuechain.hub.storage import BlobStore


def held_sizes(session: Session, repo: HubRepo, oids: Iterable[str]) -> dict[str, int]:
    """The objects among ``oids`` that this repo holds, with their sizes."""
    wanted = list(set(oids))
    if not wanted:
        return {}
    rows = session.execute(
        select(HubRepoObject.sha256, HubRepoObject.size).where(
            HubRepoObject.repo_id == repo.id, HubRepoObject.sha256.in_(wanted)
        )
    )
    return {sha256: size for sha256, size in rows}


def hold(session: Session, *, repo_pk: str, sha256: str, size: int, actor: str, now: datetime) -> None:
    """Record that the repo holds the object (idempotent, safe under concurrent uploads)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(HubRepoObject)
        .values(repo_id=repo_pk, sha256=sha256, size=size, added_by=actor[:200], created_at=now)
        .on_conflict_do_nothing(index_elements=["repo_id", "sha256"])
    )
    session.execute(statement)


def hold_committed(
    session: Session, *, repo: HubRepo, files: Iterable[FileChange], actor: str, now: datetime
) -> None:
    """A repo holds every LFS object its commits reference."""
    for change in files:
        if change.is_lfs:
            hold(session, repo_pk=repo.id, sha256=change.sha256, size=change.size, actor=actor, now=now)


def resolve_references(
    session: Session, store: BlobStore, *, repo: HubRepo, principal: Principal, request: CommitRequest
) -> CommitRequest:
    """The request with each LFS reference replaced by its stored file, if the committer may reference it.

    An object the committer may not reference gets exactly the answer of one that was never uploaded.
    """
    additions: list[FileChange | LfsReference] = []
    for change in request.additions:
        additions.append(
            _resolve(session, store, repo, principal, change) if isinstance(change, LfsReference) else change
        )
    return replace(request, additions=additions)


def _resolve(
    session: Session, store: BlobStore, repo: HubRepo, principal: Principal, ref: LfsReference
) -> FileChange:
    blob = store.stat(ref.oid) if _may_reference(session, repo, principal, ref.oid) else None
    if blob is None:
        raise ValidationError(
            f"{ref.path}: LFS object {ref.oid} was not uploaded to {repo.repo_id}; "
            "upload it through the LFS batch API first"
        )
    if ref.size is not None and ref.size != blob.size:
        raise ValidationError(
            f"{ref.path}: declared size {ref.size} differs from the uploaded {blob.size} bytes"
        )
    return FileChange(
        path=ref.path, sha256=ref.oid, size=blob.size, git_oid=lfs_git_oid(ref.oid, blob.size), is_lfs=True
    )


def _may_reference(session: Session, repo: HubRepo, principal: Principal, oid: str) -> bool:
    """Held by this repo, or by a repo whose files the committer may download (visibility, scopes, gating)."""
    holders = session.scalars(
        select(HubRepo)
        .join(HubRepoObject, HubRepoObject.repo_id == HubRepo.id)
        .where(HubRepoObject.sha256 == oid)
    )
    return any(holder.id == repo.id or has_download_access(session, holder, principal) for holder in holders)
