"""Commits: immutable trees, and branch heads moved by compare-and-set so no concurrent commit is lost."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from valuechain.hub.errors import EntryNotFoundError, RevisionNotFoundError, StaleParentError
from valuechain.hub.models import HubCommit, HubCommitFile, HubRef, HubRepo
from valuechain.hub.paths import check_file_path
from valuechain.hub.repos import DEFAULT_BRANCH, list_files


@dataclass(frozen=True)
class FileChange:
    """A file to add or replace; its content is already in the blob store."""

    path: str
    sha256: str
    size: int
    git_oid: str
    is_lfs: bool


@dataclass(frozen=True)
class LfsReference:
    """An LFS file a commit names by sha256; the service resolves it only if the repo may reference it."""

    path: str
    oid: str
    size: int | None


@dataclass
class CommitRequest:
    """What one ``create_commit`` asks for."""

    summary: str
    description: str = ""
    parent_commit: str | None = None
    additions: list[FileChange | LfsReference] = field(default_factory=list)
    deleted_files: list[str] = field(default_factory=list)
    deleted_folders: list[str] = field(default_factory=list)
    version_label: str | None = None  # registry version to attach to; default: a new one named by the commit


def git_blob_oid(content: bytes) -> str:
    """The git blob sha1 of a regular file (what the Hub reports as ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The Git LFS pointer file that stands for a large file in git."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def lfs_git_oid(sha256: str, size: int) -> str:
    return git_blob_oid(lfs_pointer(sha256, size))


def initial_commit(
    session: Session, *, repo: HubRepo, author: str, now: datetime, files: list[FileChange]
) -> HubCommit:
    """The first commit (the Hub's default ``.gitattributes``) and the ``main`` branch pointing at it."""
    commit = _root_commit(session, repo=repo, files=files, title="initial commit", author=author, now=now)
    session.add(HubRef(repo_id=repo.id, kind="branch", name=DEFAULT_BRANCH, commit_id=commit.id))
    session.flush()
    return commit


def squash_commit(
    session: Session, *, repo: HubRepo, head: HubCommit, title: str, author: str, now: datetime
) -> HubCommit:
    """A root commit with ``head``'s tree (``super_squash_history``); the caller moves the branch to it.
    The same content: the same model version and card."""
    files = list_files(session, head)
    return _root_commit(session, repo=repo, files=files, title=title, author=author, now=now, like=head)


def _root_commit(
    session: Session,
    *,
    repo: HubRepo,
    files: Sequence[HubCommitFile | FileChange],
    title: str,
    author: str,
    now: datetime,
    like: HubCommit | None = None,
) -> HubCommit:
    """A commit without parent holding ``files``, with ``like``'s version and card when given."""
    tree: dict[str, HubCommitFile | FileChange] = {f.path: f for f in files}
    commit = _new_commit(repo=repo, parent=None, files=tree, title=title, message="", author=author, now=now)
    if like is not None:
        commit.version_id, commit.card = like.version_id, like.card
    session.add(commit)
    session.flush()
    session.add_all(
        HubCommitFile(
            commit_id=commit.id, path=f.path, sha256=f.sha256, size=f.size, git_oid=f.git_oid, is_lfs=f.is_lfs
        )
        for f in files
    )
    session.flush()
    return commit


def apply_commit(
    session: Session, *, repo: HubRepo, branch: str, request: CommitRequest, author: str, now: datetime
) -> tuple[HubCommit, list[HubCommitFile]]:
    """Write a new commit on ``branch``; a stale ``parent_commit`` or a concurrent move is a conflict."""
    ref = session.get(HubRef, (repo.id, "branch", branch))
    if ref is None:
        raise RevisionNotFoundError(branch)
    head_id = ref.commit_id
    if request.parent_commit and request.parent_commit != head_id:
        raise StaleParentError(
            "The branch was updated since you opened this page. Please refresh and try again. "
            f"(parent commit {request.parent_commit} is not the head of {branch}, {head_id}: "
            "another commit landed first; fetch the new head and retry)"
        )
    head = session.get(HubCommit, head_id)
    assert head is not None
    files: dict[str, HubCommitFile | FileChange] = {f.path: f for f in list_files(session, head)}
    _apply_changes(files, request)
    commit = _new_commit(
        repo=repo,
        parent=head_id,
        files=files,
        title=request.summary or "update files",
        message=request.description,
        author=author,
        now=now,
    )
    session.add(commit)
    session.flush()
    rows = [
        HubCommitFile(
            commit_id=commit.id, path=f.path, sha256=f.sha256, size=f.size, git_oid=f.git_oid, is_lfs=f.is_lfs
        )
        for f in files.values()
    ]
    session.add_all(rows)
    moved = session.execute(
        update(HubRef)
        .where(
            HubRef.repo_id == repo.id,
            HubRef.kind == "branch",
            HubRef.name == branch,
            HubRef.commit_id == head_id,
        )
        .values(commit_id=commit.id)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleParentError(f"{branch} moved while this commit was written; retry on the new head")
    session.flush()
    return commit, sorted(rows, key=lambda r: r.path)


def _apply_changes(files: dict[str, HubCommitFile | FileChange], request: CommitRequest) -> None:
    for path in request.deleted_files:
        check_file_path(path)
        if files.pop(path, None) is None:
            # The client cannot tell a folder from a file: a deleted "file" that is a folder deletes it.
            doomed = [p for p in files if p.startswith(path + "/")]
            if not doomed:
                raise EntryNotFoundError(f"A file with this name doesn't exist: {path}")
            for inner in doomed:
                del files[inner]
    for folder in request.deleted_folders:
        prefix = check_file_path(folder.rstrip("/")) + "/"
        doomed = [p for p in files if p.startswith(prefix)]
        if not doomed:
            raise EntryNotFoundError(f"A folder with this name doesn't exist: {folder}")
        for path in doomed:
            del files[path]
    for change in request.additions:
        if not isinstance(change, FileChange):  # hub.objects.resolve_references runs first
            raise TypeError(f"unresolved LFS reference {change.path}")
        check_file_path(change.path)
        files[change.path] = change


def _new_commit(
    *,
    repo: HubRepo,
    parent: str | None,
    files: dict[str, HubCommitFile | FileChange],
    title: str,
    message: str,
    author: str,
    now: datetime,
) -> HubCommit:
    tree = sorted((path, f.sha256, f.size) for path, f in files.items())
    payload = json.dumps(
        {
            "repo": repo.id,
            "parent": parent,
            "tree": tree,
            "title": title,
            "message": message,
            "author": author,
            "at": now.isoformat(),
            "nonce": os.urandom(8).hex(),
        },
        separators=(",", ":"),
    )
    sha = hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()
    return HubCommit(
        id=sha,
        repo_id=repo.id,
        parent_id=parent,
        title=title[:500],
        message=message,
        author=author,
        created_at=now,
    )
