"""Listings: models visible to the caller, the tree of a commit, and the last commit of its files."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.hub.errors import EntryNotFoundError
from valuechain.hub.models import HubCommit, HubCommitFile, HubRepo
from valuechain.hub.repos import list_commits, list_files, visible_repos_query
from valuechain.hub.views import iso, model_info, tree_dir, tree_file

DEFAULT_LIMIT = 1000


def list_models(
    session: Session,
    *,
    principal: Principal | None,
    search: str | None,
    author: str | None,
    tags: list[str],
    sort: str | None,
    limit: int | None,
    offset: int,
    today: date,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of model infos and whether more follow."""
    query = visible_repos_query(principal)
    if author:
        query = query.where(HubRepo.namespace == author)
    if search:
        query = query.where((HubRepo.namespace + "/" + HubRepo.name).contains(search))
    repos = list(session.scalars(query.order_by(HubRepo.namespace, HubRepo.name)))
    infos = [
        model_info(session, repo, principal=principal, revision=None, with_blobs=False, today=today)
        for repo in repos
    ]
    infos = [info for info in infos if all(tag in info["tags"] for tag in tags)]
    if sort in ("downloads", "lastModified", "createdAt", "likes"):
        infos.sort(key=lambda info: info.get(sort) or 0, reverse=True)
    size = limit or DEFAULT_LIMIT
    page = infos[offset : offset + size]
    return page, offset + size < len(infos) and limit is None


def tree(
    session: Session, repo: HubRepo, commit: HubCommit, *, path: str, recursive: bool, expand: bool = False
) -> list[dict[str, Any]]:
    """Entries under ``path``: direct children, or everything below with ``recursive``."""
    prefix = f"{path}/" if path else ""
    files = [f for f in list_files(session, commit) if f.path.startswith(prefix)]
    if path and not files:
        raise EntryNotFoundError(path, commit=commit.id)
    entries: list[dict[str, Any]] = []
    seen_dirs: set[str] = set()
    for entry in files:
        rest = entry.path[len(prefix) :]
        parts = rest.split("/")
        for depth in range(1, len(parts)):
            folder = prefix + "/".join(parts[:depth])
            if folder not in seen_dirs and (recursive or depth == 1):
                seen_dirs.add(folder)
                entries.append(tree_dir(folder))
        if recursive or len(parts) == 1:
            entries.append(tree_file(entry))
    return add_last_commits(session, repo, commit, entries) if expand else entries


def paths_info(
    session: Session, repo: HubRepo, commit: HubCommit, paths: list[str], *, expand: bool = False
) -> list[dict[str, Any]]:
    """Entries of the given paths: files, or folders when something lies below them; ``expand`` adds
    each file's ``lastCommit``."""
    files = {f.path: f for f in list_files(session, commit)}
    result: list[dict[str, Any]] = []
    for path in paths:
        clean = path.strip("/")
        if clean in files:
            result.append(tree_file(files[clean]))
        elif any(p.startswith(clean + "/") for p in files):
            result.append(tree_dir(clean))
    return add_last_commits(session, repo, commit, result) if expand else result


def add_last_commits(
    session: Session, repo: HubRepo, head: HubCommit, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``lastCommit`` of each file entry: the newest commit from ``head`` back that gave it its content."""
    history = list_commits(session, repo, head)
    paths = [e["path"] for e in entries if e["type"] == "file"]
    contents: dict[tuple[str, str], str] = {}
    for start in range(0, len(paths), 500):  # bounded IN lists
        rows = session.execute(
            select(HubCommitFile.commit_id, HubCommitFile.path, HubCommitFile.sha256).where(
                HubCommitFile.commit_id.in_([c.id for c in history]),
                HubCommitFile.path.in_(paths[start : start + 500]),
            )
        )
        contents.update({(commit_id, path): sha for commit_id, path, sha in rows})
    for entry in entries:
        if entry["type"] != "file":
            continue
        current, index = contents.get((history[0].id, entry["path"])), 0
        while index + 1 < len(history) and contents.get((history[index + 1].id, entry["path"])) == current:
            index += 1
        last = history[index]
        entry["lastCommit"] = {"id": last.id, "title": last.title, "date": iso(last.created_at)}
    return entries
