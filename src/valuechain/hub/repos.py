"""Repositories, revisions and trees: creating repos, resolving revisions, reading immutable trees."""

from __future__ import annotations

import re

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Scope
from valuechain.core.audit import record_event
from valuechain.core.errors import ConflictError, ForbiddenError, ValidationError
from valuechain.hub.errors import EntryNotFoundError, RepoNotFoundError, RevisionNotFoundError
from valuechain.hub.models import HubAccess, HubCommit, HubCommitFile, HubRef, HubRepo

DEFAULT_BRANCH = "main"
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


def split_repo_id(repo_id: str) -> tuple[str, str]:
    """``org/name`` → (namespace, name); anything else is an unknown repo."""
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts):
        raise RepoNotFoundError(repo_id)
    return parts[0], parts[1]


def is_owner(repo: HubRepo, principal: Principal | None) -> bool:
    """The provider's own keys (and platform operators) manage the repo."""
    return principal is not None and (principal.is_operator or principal.org_id == repo.org_id)


def can_see(repo: HubRepo, principal: Principal | None) -> bool:
    """Public and gated repos are listed to everyone; private ones only to their organisation."""
    return repo.visibility == "public" or is_owner(repo, principal)


def find_repo(session: Session, repo_id: str, *, principal: Principal | None) -> HubRepo:
    """The repo if the caller may see it; otherwise RepositoryNotFound, whether or not it exists."""
    namespace, name = split_repo_id(repo_id)
    repo = session.scalar(select(HubRepo).where(HubRepo.namespace == namespace, HubRepo.name == name))
    if repo is None or not can_see(repo, principal):
        raise RepoNotFoundError(repo_id)
    return repo


def find_writable_repo(session: Session, repo_id: str, *, principal: Principal | None) -> HubRepo:
    """The repo if the caller's organisation owns it and the key may write to the hub."""
    repo = find_repo(session, repo_id, principal=principal)
    if not is_owner(repo, principal):
        raise ForbiddenError(f"you cannot write to {repo_id}: it belongs to another organisation")
    assert principal is not None
    principal.require(Scope.hub_write)
    return repo


def has_download_access(session: Session, repo: HubRepo, principal: Principal | None) -> bool:
    """Files are served if public and ungated, to the owner, or to an org with accepted access."""
    if not can_see(repo, principal):
        return False
    if repo.gated is None or is_owner(repo, principal):
        return True
    if principal is None:
        return False
    status = session.scalar(
        select(HubAccess.status).where(HubAccess.repo_id == repo.id, HubAccess.org_id == principal.org_id)
    )
    return status == "accepted"


def resolve_revision(session: Session, repo: HubRepo, revision: str) -> HubCommit:
    """A branch, a tag or a full commit sha of this repo."""
    if _COMMIT_SHA.match(revision):
        commit = session.get(HubCommit, revision)
        if commit is not None and commit.repo_id == repo.id:
            return commit
    for kind in ("branch", "tag"):
        commit_id = session.scalar(
            select(HubRef.commit_id).where(
                HubRef.repo_id == repo.id, HubRef.kind == kind, HubRef.name == revision
            )
        )
        if commit_id is not None:
            found = session.get(HubCommit, commit_id)
            assert found is not None
            return found
    raise RevisionNotFoundError(revision)


def list_files(session: Session, commit: HubCommit) -> list[HubCommitFile]:
    """Every file of a commit, sorted by path."""
    return list(
        session.scalars(
            select(HubCommitFile).where(HubCommitFile.commit_id == commit.id).order_by(HubCommitFile.path)
        )
    )


def get_file(session: Session, commit: HubCommit, path: str) -> HubCommitFile:
    """One file of a commit, or EntryNotFound (with the commit, so the client can cache the absence)."""
    entry = session.get(HubCommitFile, (commit.id, path))
    if entry is None:
        raise EntryNotFoundError(path, commit=commit.id)
    return entry


def list_refs(session: Session, repo: HubRepo) -> list[HubRef]:
    return list(
        session.scalars(select(HubRef).where(HubRef.repo_id == repo.id).order_by(HubRef.kind, HubRef.name))
    )


def list_commits(session: Session, repo: HubRepo, head: HubCommit, *, limit: int = 1000) -> list[HubCommit]:
    """The history from ``head`` back to the first commit."""
    history: list[HubCommit] = []
    current: HubCommit | None = head
    while current is not None and len(history) < limit:
        history.append(current)
        current = session.get(HubCommit, current.parent_id) if current.parent_id else None
    return history


def create_ref(
    session: Session, repo: HubRepo, *, kind: str, name: str, commit: HubCommit, principal: Principal
) -> HubRef:
    """A new branch or tag; an existing one is a conflict."""
    if not name or name != name.strip() or ".." in name or any(ord(c) < 32 for c in name):
        raise ValidationError(f"invalid {kind} name {name[:100]!r}")
    if session.get(HubRef, (repo.id, kind, name)) is not None:
        raise ConflictError(f"{kind} {name} already exists")
    ref = HubRef(repo_id=repo.id, kind=kind, name=name, commit_id=commit.id)
    session.add(ref)
    record_event(
        session,
        actor=principal.actor,
        org_id=repo.org_id,
        action=f"hub.{kind}.create",
        subject_type="hub_repo",
        subject_id=repo.id,
        after={"name": name, "commit": commit.id},
    )
    return ref


def delete_ref(session: Session, repo: HubRepo, *, kind: str, name: str, principal: Principal) -> None:
    """Remove a branch (never ``main``) or a tag."""
    ref = session.get(HubRef, (repo.id, kind, name))
    if ref is None:
        raise RevisionNotFoundError(name)
    if kind == "branch" and name == DEFAULT_BRANCH:
        raise ValidationError("the main branch cannot be deleted")
    session.delete(ref)
    record_event(
        session,
        actor=principal.actor,
        org_id=repo.org_id,
        action=f"hub.{kind}.delete",
        subject_type="hub_repo",
        subject_id=repo.id,
        before={"name": name, "commit": ref.commit_id},
    )


def visible_repos_query(principal: Principal | None) -> Select[HubRepo]:
    """Repos the caller may list: public ones and its own organisation's."""
    query = select(HubRepo)
    if principal is None:
        return query.where(HubRepo.visibility == "public")
    if principal.is_operator:
        return query
    return query.where((HubRepo.visibility == "public") | (HubRepo.org_id == principal.org_id))


def used_storage(session: Session, commit: HubCommit) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(HubCommitFile.size), 0)).where(HubCommitFile.commit_id == commit.id)
        )
        or 0
    )
