"""Listings: models visible to the caller, and the tree of a commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.hub.errors import EntryNotFoundError
from valuechain.hub.models import HubCommit, HubRepo
from valuechain.hub.repos import list_files, visible_repos_query
from valuechain.hub.views import model_info, tree_dir, tree_file

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


def tree(session: Session, commit: HubCommit, *, path: str, recursive: bool) -> list[dict[str, Any]]:
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
    return entries


def paths_info(session: Session, commit: HubCommit, paths: list[str]) -> list[dict[str, Any]]:
    """Entries of the given paths: files, or folders when something lies below them."""
    files = {f.path: f for f in list_files(session, commit)}
    result: list[dict[str, Any]] = []
    for path in paths:
        clean = path.strip("/")
        if clean in files:
            result.append(tree_file(files[clean]))
        elif any(p.startswith(clean + "/") for p in files):
            result.append(tree_dir(clean))
    return result
