"""Repositories, revisions and trees: creating repos, resolving revisions, reading immutable trees."""

from __future__ import annotations

import re

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from valuechain.hub.errors import EntryNotFoundError, RepoNotFoundError, RevisionNotFoundError
from valuechain.hub.models import HubAccess, HubCommit, HubCommitFile, HubRef, HubRepo, HubRepoRedirect

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


def repo_resource(repo: HubRepo, *, label: str | None = None) -> Resource:
    """The repo as the permission check sees it; public (gated or not) repos are visible to everyone."""
    return Resource(
        kind="Repository",
        label=label or repo.repo_id,
        owner_org_id=repo.org_id,
        is_visible=repo.visibility == "public",
    )


def authorize_repo(principal: Principal | None, action: Action, repo: HubRepo, *, label: str) -> None:
    """The one permission check, in the hub's words: a repo the caller may not see is RepoNotFound, exactly
    as a missing one (same status, code and message); a visible one it may not act on is Forbidden."""
    if principal is None:
        if repo.visibility != "public":
            raise RepoNotFoundError(label)
        if action is not Action.repo_read:
            raise ForbiddenError("this call needs a valuechain API key as the token")
        return
    try:
        authorize(principal, action, repo_resource(repo, label=label))
    except NotFoundError as exc:
        raise RepoNotFoundError(label) from exc


def can_read(repo: HubRepo, principal: Principal | None) -> bool:
    """Whether the caller may read this repo (the same decision as :func:`authorize_repo`)."""
    try:
        authorize_repo(principal, Action.repo_read, repo, label=repo.repo_id)
    except (ForbiddenError, NotFoundError):
        return False
    return True


def lookup_repo(session: Session, repo_id: str, *, follow_redirects: bool = True) -> HubRepo | None:
    """The repo named ``repo_id``, compared case-insensitively as on the Hub, or the repo a moved one's
    old name leads to; no permission check (callers authorize the repo found)."""
    namespace, name = split_repo_id(repo_id)
    query = select(HubRepo).where(
        func.lower(HubRepo.namespace) == namespace.lower(), func.lower(HubRepo.name) == name.lower()
    )
    repo = session.scalar(query)
    if repo is None and follow_redirects:
        redirect = session.get(HubRepoRedirect, (namespace.lower(), name.lower()))
        repo = session.get(HubRepo, redirect.repo_id) if redirect is not None else None
    return repo


def drop_redirect(session: Session, repo_id: str) -> None:
    """A repo now holds this name: the old name of a moved repo stops leading there."""
    namespace, name = split_repo_id(repo_id)
    session.execute(
        delete(HubRepoRedirect).where(
            HubRepoRedirect.namespace == namespace.lower(), HubRepoRedirect.name == name.lower()
        )
    )


def find_repo(
    session: Session, repo_id: str, *, principal: Principal | None, action: Action = Action.repo_read
) -> HubRepo:
    """The repo if the caller may do ``action`` to it; RepositoryNotFound if it may not see it or it is
    missing (the same answer)."""
    repo = lookup_repo(session, repo_id)
    if repo is None:
        raise RepoNotFoundError(repo_id)
    authorize_repo(principal, action, repo, label=repo_id)
    return repo


def find_writable_repo(session: Session, repo_id: str, *, principal: Principal | None) -> HubRepo:
    """The repo if the caller's organisation owns it and the key may write to the hub."""
    return find_repo(session, repo_id, principal=principal, action=Action.repo_write)


def find_managed_repo(
    session: Session, repo_id: str, *, principal: Principal | None, reading: bool = False
) -> HubRepo:
    """The repo if the caller may manage it: settings, release, access decisions, statistics; reading
    what only managers see (statistics, access requests) also needs `hub:read`, as every hub read."""
    repo = find_repo(session, repo_id, principal=principal, action=Action.repo_manage)
    if reading:
        authorize_repo(principal, Action.repo_read, repo, label=repo_id)
    return repo


def has_download_access(session: Session, repo: HubRepo, principal: Principal | None) -> bool:
    """Files are served if readable and ungated, to the owner, or to an org with accepted access."""
    if not can_read(repo, principal):
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
    if not is_valid_ref_name(name):
        raise ValidationError(f"invalid {kind} name {name[:100]!r}: it must be a valid git reference name")
    if session.get(HubRef, (repo.id, kind, name)) is not None:
        raise ConflictError(f"Reference {_ref_path(kind, name)} already exists")
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


_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|^[./]|[./]$|\.lock$|\.lock/")


def is_valid_ref_name(name: str) -> bool:
    """Git's reference name rules (``git check-ref-format``): no spaces, controls, ``~^:?*[``, backslash,
    ``..``, ``@{``, empty or dot-led components, trailing ``.``/``/`` or ``.lock``; at most 200 characters."""
    return 0 < len(name) <= 200 and name != "@" and not _BAD_REF.search(name)


def _ref_path(kind: str, name: str) -> str:
    return f"refs/{'heads' if kind == 'branch' else 'tags'}/{name}"


def delete_ref(session: Session, repo: HubRepo, *, kind: str, name: str, principal: Principal) -> None:
    """Remove a branch (never ``main``) or a tag."""
    ref = session.get(HubRef, (repo.id, kind, name))
    if ref is None:
        raise RevisionNotFoundError(name)
    if kind == "branch" and name == DEFAULT_BRANCH:
        raise ForbiddenError(f"Cannot delete {_ref_path(kind, name)}: it is the default branch")
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


def visible_repos_query(principal: Principal | None) -> Select[tuple[HubRepo]]:
    """Repos the caller may list: public ones and its own organisation's (needs ``hub:read``)."""
    query = select(HubRepo)
    if principal is None:
        return query.where(HubRepo.visibility == "public")
    authorize(principal, Action.repo_read)
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
