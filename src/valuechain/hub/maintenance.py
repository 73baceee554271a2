"""Repo maintenance as the Hub offers it: move (rename), super-squash a branch, list and permanently delete
LFS objects. Each use case owns its unit of work; all need the repo's manager (``find_managed_repo``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ConflictError, ForbiddenError
from valuechain.hub import lineage
from valuechain.hub.commits import lfs_git_oid, squash_commit
from valuechain.hub.errors import RevisionNotFoundError, StaleParentError
from valuechain.hub.models import HubCommit, HubCommitFile, HubRef, HubRepo, HubRepoObject, HubRepoRedirect
from valuechain.hub.paths import check_repo_part
from valuechain.hub.repos import drop_redirect, find_managed_repo, list_files, lookup_repo, split_repo_id
from valuechain.hub.views import iso


def move_repo(db: Database, *, principal: Principal, from_id: str, to_id: str) -> HubRepo:
    """Rename a repo inside its organisation's namespace; the old name keeps reaching it (redirect) until
    another repo takes it. Its registry model is renamed with it; lineage follows the model, not the name."""
    namespace, name = split_repo_id(to_id)
    check_repo_part(name, what="repository name")
    now = utcnow()
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, from_id, principal=principal)
        if namespace.lower() != repo.namespace.lower():
            raise ForbiddenError(f"a repo moves only inside its organisation's namespace ({repo.namespace})")
        taken = lookup_repo(session, to_id, follow_redirects=False)
        if taken is not None and taken.id != repo.id:
            raise ConflictError(f"A model repository called {taken.repo_id} already exists")
        before = repo.repo_id
        _redirect(session, repo, namespace=repo.namespace, name=repo.name, now=now)
        drop_redirect(session, to_id)
        repo.name, repo.updated_at = name, now
        lineage.rename_model(session, repo, actor=principal.actor)
        record_event(
            session,
            actor=principal.actor,
            org_id=repo.org_id,
            action="hub.repo.move",
            subject_type="hub_repo",
            subject_id=repo.id,
            before={"repo": before},
            after={"repo": repo.repo_id},
        )
    return repo


def _redirect(session: Session, repo: HubRepo, *, namespace: str, name: str, now: datetime) -> None:
    key = (namespace.lower(), name.lower())
    existing = session.get(HubRepoRedirect, key)
    if existing is None:
        session.add(HubRepoRedirect(namespace=key[0], name=key[1], repo_id=repo.id, created_at=now))
    else:
        existing.repo_id, existing.created_at = repo.id, now


def super_squash(db: Database, *, principal: Principal, repo_id: str, branch: str, message: str) -> str:
    """Replace a branch's history by one commit with its current tree (other refs keep theirs)."""
    now = utcnow()
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, repo_id, principal=principal)
        ref = session.get(HubRef, (repo.id, "branch", branch))
        if ref is None:
            raise RevisionNotFoundError(branch)
        head = session.get(HubCommit, ref.commit_id)
        assert head is not None
        commit = squash_commit(session, repo=repo, head=head, title=message, author=principal.actor, now=now)
        moved = session.execute(
            update(HubRef)
            .where(HubRef.repo_id == repo.id, HubRef.kind == "branch", HubRef.name == branch)
            .where(HubRef.commit_id == head.id)
            .values(commit_id=commit.id)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleParentError(f"{branch} moved while it was squashed; retry")
        record_event(
            session, actor=principal.actor, org_id=repo.org_id, action="hub.branch.squash",
            subject_type="hub_repo", subject_id=repo.id,
            after={"commit": commit.id, "branch": branch, "title": commit.title},
        )  # fmt: skip
        return commit.id


def list_lfs_files(db: Database, *, principal: Principal, repo_id: str) -> list[dict[str, Any]]:
    """The LFS objects the repo holds, each with a path and the branch that references it (if any)."""
    with db.session() as session:
        repo = find_managed_repo(session, repo_id, principal=principal, reading=True)
        held = list(session.scalars(select(HubRepoObject).where(HubRepoObject.repo_id == repo.id)))
        branches = sorted(
            session.scalars(select(HubRef).where(HubRef.repo_id == repo.id, HubRef.kind == "branch")),
            key=lambda r: (r.name != "main", r.name),
        )
        where: dict[str, tuple[str, str | None]] = {}
        for ref in branches:
            head = session.get(HubCommit, ref.commit_id)
            for entry in list_files(session, head) if head else []:
                if entry.is_lfs:
                    where.setdefault(entry.sha256, (entry.path, ref.name))
        names = _any_paths(session, repo, [o.sha256 for o in held if o.sha256 not in where])
        return [
            {
                "fileOid": obj.sha256,
                "oid": lfs_git_oid(obj.sha256, obj.size),
                "size": obj.size,
                "filename": where.get(obj.sha256, (names.get(obj.sha256, obj.sha256), None))[0],
                "ref": where.get(obj.sha256, ("", None))[1],
                "pushedAt": iso(obj.created_at),
            }
            for obj in sorted(held, key=lambda o: o.created_at)
        ]


def _any_paths(session: Session, repo: HubRepo, oids: list[str]) -> dict[str, str]:
    """A path each object had in some commit of the repo (for objects no branch references any more)."""
    if not oids:
        return {}
    rows = session.execute(
        select(HubCommitFile.sha256, HubCommitFile.path)
        .join(HubCommit, HubCommit.id == HubCommitFile.commit_id)
        .where(HubCommit.repo_id == repo.id, HubCommitFile.sha256.in_(oids), HubCommitFile.is_lfs)
    )
    return dict(rows.all())


def delete_lfs_files(
    db: Database, *, principal: Principal, repo_id: str, oids: list[str], rewrite_history: bool
) -> None:
    """Permanently delete LFS objects of a repo. With ``rewrite_history`` (the client's default) every
    commit of the repo forgets the files that point at them, as the Hub rewrites history; without it,
    objects still referenced are refused. The repo no longer holds them (so no commit of it may reference
    them again); the shared blob store keeps the bytes, since another repo may hold the same content."""
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, repo_id, principal=principal)
        oids = sorted(set(oids))
        commit_ids = select(HubCommit.id).where(HubCommit.repo_id == repo.id)
        referenced = HubCommitFile.commit_id.in_(commit_ids) & HubCommitFile.sha256.in_(oids)
        if not rewrite_history and session.scalar(select(HubCommitFile.path).where(referenced).limit(1)):
            raise ConflictError("these LFS objects are still referenced by commits; pass rewriteHistory")
        session.execute(delete(HubCommitFile).where(referenced & HubCommitFile.is_lfs))
        session.execute(
            delete(HubRepoObject).where(HubRepoObject.repo_id == repo.id, HubRepoObject.sha256.in_(oids))
        )
        record_event(
            session, actor=principal.actor, org_id=repo.org_id, action="hub.lfs.delete",
            subject_type="hub_repo", subject_id=repo.id, before={"sha256": oids},
        )  # fmt: skip
