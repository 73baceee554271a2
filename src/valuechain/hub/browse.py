"""Read use cases of the hub: model info and listings, trees, refs, history, lineage, access lists and
download statistics. Each opens one read session and authorizes once (``repos.find_repo``); the answers are
the JSON shapes huggingface_hub parses (``views.py``)."""

from __future__ import annotations

import html
from typing import Any

from valuechain.accounts.directory import org_by_slug, orgs_by_ids
from valuechain.accounts.principal import Principal
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.hub import access, lineage, listing
from valuechain.hub.downloads import download_rows, download_totals
from valuechain.hub.repos import (
    DEFAULT_BRANCH,
    find_managed_repo,
    find_repo,
    has_download_access,
    list_commits,
    list_refs,
    resolve_revision,
)
from valuechain.hub.views import iso, model_info


def organisation_name(db: Database, *, principal: Principal) -> str:
    """The caller's organisation's display name (``whoami``'s ``fullname``)."""
    with db.session() as session:
        org = org_by_slug(session, principal.org_slug)
    return org.name if org is not None else principal.org_slug


def list_models(
    db: Database,
    *,
    principal: Principal | None,
    search: str | None,
    author: str | None,
    tags: list[str],
    sort: str | None,
    limit: int | None,
    offset: int,
) -> tuple[list[dict[str, Any]], bool]:
    """``list_models``: one page of the repos the caller may see, and whether more follow."""
    with db.session() as session:
        return listing.list_models(
            session,
            principal=principal,
            search=search,
            author=author,
            tags=tags,
            sort=sort,
            limit=limit,
            offset=offset,
            today=utcnow().date(),
        )


def get_model_info(
    db: Database, *, principal: Principal | None, repo_id: str, revision: str | None, with_blobs: bool
) -> dict[str, Any]:
    """``model_info``: readable for gated repos, RepoNotFound for repos the caller may not see."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        info = model_info(
            session,
            repo,
            principal=principal,
            revision=revision,
            with_blobs=with_blobs,
            today=utcnow().date(),
        )
        info["valuechain"]["can_download"] = has_download_access(session, repo, principal)
    return info


def list_tree(
    db: Database,
    *,
    principal: Principal | None,
    repo_id: str,
    revision: str,
    path: str,
    recursive: bool,
    expand: bool = False,
) -> list[dict[str, Any]]:
    """``list_repo_tree``: files and folders under ``path`` at a revision (``expand``: with lastCommit)."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        commit = resolve_revision(session, repo, revision)
        return listing.tree(session, repo, commit, path=path.strip("/"), recursive=recursive, expand=expand)


def paths_info(
    db: Database,
    *,
    principal: Principal | None,
    repo_id: str,
    revision: str,
    paths: list[str],
    expand: bool = False,
) -> list[dict[str, Any]]:
    """``get_paths_info``: the entries of the given paths; unknown paths are skipped."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        commit = resolve_revision(session, repo, revision)
        return listing.paths_info(session, repo, commit, paths, expand=expand)


def list_repo_refs(db: Database, *, principal: Principal | None, repo_id: str) -> dict[str, Any]:
    """``list_repo_refs``: branches and tags with their commits."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        refs = [(r.kind, r.name, r.commit_id) for r in list_refs(session, repo)]
    branches = [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": c} for k, n, c in refs if k == "branch"]
    tags = [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": c} for k, n, c in refs if k == "tag"]
    return {"branches": branches, "tags": tags, "converts": [], "pullRequests": []}


def list_repo_commits(
    db: Database, *, principal: Principal | None, repo_id: str, revision: str, formatted: bool = False
) -> list[dict[str, Any]]:
    """``list_repo_commits``: newest first; ``formatted`` adds the title and message as HTML."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        history = list_commits(session, repo, resolve_revision(session, repo, revision))
        commits = []
        for c in history:
            item: dict[str, Any] = {
                "id": c.id,
                "authors": [{"user": c.author}],
                "date": iso(c.created_at),
                "title": c.title,
                "message": c.message,
            }
            if formatted:  # plain text, escaped: the HTML the Hub would render without its markdown
                item["formatted"] = {"title": html.escape(c.title), "message": html.escape(c.message)}
            commits.append(item)
        return commits


def check_files_access(db: Database, *, principal: Principal | None, repo_id: str) -> None:
    """``auth_check``: RepoNotFound or GatedRepo unless the caller can download the files."""
    with db.session() as session:
        access.check_download(session, find_repo(session, repo_id, principal=principal), principal)


def model_tree(db: Database, *, principal: Principal | None, repo_id: str) -> dict[str, Any]:
    """The model tree: base models (on this hub or external) and the derived models the caller may see."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        head = resolve_revision(session, repo, DEFAULT_BRANCH)
        parents = lineage.parents(session, head.version_id)
        viewer = principal.org_id if principal else None
        children = lineage.children(session, repo.model_id, viewer_org_id=viewer)
        return {
            "id": repo.repo_id,
            "parents": [{"id": p.id, "relation": p.relation, "on_hub": p.on_registry} for p in parents],
            "children": [{"id": c.id, "relation": c.relation} for c in children],
            "childrenModelCount": lineage.children_counts(children),
        }


def list_access_requests(
    db: Database, *, principal: Principal, repo_id: str, status: str
) -> list[dict[str, Any]]:
    """For the provider: organisations by access status, with who accepted which terms when."""
    with db.session() as session:
        repo = find_managed_repo(session, repo_id, principal=principal, reading=True)
        rows = access.list_access(session, repo=repo, status=status)
        names = {org.slug: org.name for org in orgs_by_ids(session, (r.org_id for r, _ in rows)).values()}
        return [
            {
                "user": {"user": slug, "fullname": names.get(slug, slug), "type": "org"},
                "username": slug,
                "requestId": access.request_id(record),
                "status": record.status,
                "timestamp": iso(record.decided_at or record.accepted_at or utcnow()),
                "fields": {
                    "terms": record.terms,
                    "terms_sha256": record.terms_sha256,
                    "accepted_by": record.accepted_by,
                },
            }
            for record, slug in rows
        ]


def download_statistics(db: Database, *, principal: Principal, repo_id: str) -> dict[str, Any]:
    """For the provider: download counts per version, organisation and day."""
    with db.session() as session:
        repo = find_managed_repo(session, repo_id, principal=principal, reading=True)
        recent, all_time = download_totals(session, repo, today=utcnow().date())
        return {
            "id": repo.repo_id,
            "downloads": recent,
            "downloadsAllTime": all_time,
            "rows": download_rows(session, repo),
        }
