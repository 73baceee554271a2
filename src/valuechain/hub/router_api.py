"""Read API of the hub: whoami, model info, listing, trees, refs and commits (``hf_api.py`` endpoints)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request, Response

from valuechain.core.clock import utcnow
from valuechain.hub import listing
from valuechain.hub.deps import CurrentPrincipal, DbDep, MaybePrincipal
from valuechain.hub.repos import find_repo, has_download_access, list_commits, list_refs, resolve_revision
from valuechain.hub.views import iso, model_info

router = APIRouter(prefix="/api")


@router.get("/whoami-v2")
def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
    """The caller as the client's ``whoami`` expects it; repos are namespaced by organisation."""
    role = "write" if principal.role.value != "viewer" else "read"
    return {
        "type": "user",
        "name": principal.org_slug,
        "fullname": principal.org_slug,
        "orgs": [{"type": "org", "name": principal.org_slug}],
        "auth": {
            "type": "access_token",
            "accessToken": {"displayName": principal.key_id or "cli", "role": role},
        },
    }


@router.get("/models")
def list_models(
    request: Request,
    response: Response,
    db: DbDep,
    principal: MaybePrincipal,
    search: str | None = None,
    author: str | None = None,
    filter: list[str] = Query(default=[]),  # noqa: A002 - the client's parameter name
    sort: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[dict[str, Any]]:
    """``list_models``: public repos and the caller's own, paged through a ``Link`` header."""
    with db.session() as session:
        page, more = listing.list_models(
            session,
            principal=principal,
            search=search,
            author=author,
            tags=filter,
            sort=sort,
            limit=limit,
            offset=offset,
            today=utcnow().date(),
        )
    if more:
        next_url = request.url.include_query_params(offset=offset + len(page))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return page


@router.get("/models/{namespace}/{name}")
@router.get("/models/{namespace}/{name}/revision/{revision:path}")
def get_model_info(
    namespace: str,
    name: str,
    db: DbDep,
    principal: MaybePrincipal,
    revision: str | None = None,
    blobs: bool = False,
) -> dict[str, Any]:
    """``model_info`` / ``repo_info``; readable for gated repos, invisible for others' private ones."""
    with db.session() as session:
        repo = find_repo(session, f"{namespace}/{name}", principal=principal)
        info = model_info(
            session, repo, principal=principal, revision=revision, with_blobs=blobs, today=utcnow().date()
        )
        info["valuechain"]["can_download"] = has_download_access(session, repo, principal)
    return info


@router.get("/models/{namespace}/{name}/tree/{revision}")
@router.get("/models/{namespace}/{name}/tree/{revision}/{path:path}")
def list_tree(
    namespace: str,
    name: str,
    revision: str,
    db: DbDep,
    principal: MaybePrincipal,
    path: str = "",
    recursive: bool = False,
) -> list[dict[str, Any]]:
    """``list_repo_tree``: files and folders under ``path`` at a revision."""
    with db.session() as session:
        repo = find_repo(session, f"{namespace}/{name}", principal=principal)
        commit = resolve_revision(session, repo, revision)
        return listing.tree(session, commit, path=path.strip("/"), recursive=recursive)


@router.post("/models/{namespace}/{name}/paths-info/{revision}")
def paths_info(
    namespace: str,
    name: str,
    revision: str,
    db: DbDep,
    principal: MaybePrincipal,
    paths: list[str] = Form(default=[]),
) -> list[dict[str, Any]]:
    """``get_paths_info``: the entries for the given paths (form-encoded); unknown paths are skipped."""
    with db.session() as session:
        repo = find_repo(session, f"{namespace}/{name}", principal=principal)
        commit = resolve_revision(session, repo, revision)
        return listing.paths_info(session, commit, paths)


@router.get("/models/{namespace}/{name}/refs")
def get_refs(namespace: str, name: str, db: DbDep, principal: MaybePrincipal) -> dict[str, Any]:
    """``list_repo_refs``."""
    with db.session() as session:
        repo = find_repo(session, f"{namespace}/{name}", principal=principal)
        refs = [(r.kind, r.name, r.commit_id) for r in list_refs(session, repo)]
    branches = [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": c} for k, n, c in refs if k == "branch"]
    tags = [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": c} for k, n, c in refs if k == "tag"]
    return {"branches": branches, "tags": tags, "converts": [], "pullRequests": []}


@router.get("/models/{namespace}/{name}/commits/{revision}")
def get_commits(
    namespace: str, name: str, revision: str, db: DbDep, principal: MaybePrincipal
) -> list[dict[str, Any]]:
    """``list_repo_commits``: newest first."""
    with db.session() as session:
        repo = find_repo(session, f"{namespace}/{name}", principal=principal)
        history = list_commits(session, repo, resolve_revision(session, repo, revision))
        return [
            {
                "id": c.id,
                "authors": [{"user": c.author}],
                "date": iso(c.created_at),
                "title": c.title,
                "message": c.message,
            }
            for c in history
        ]


@router.get("/models/{namespace}/{name}/auth-check")
def auth_check(namespace: str, name: str, db: DbDep, principal: MaybePrincipal) -> dict[str, Any]:
    """``auth_check``: RepoNotFound or GatedRepo unless the caller can read the files."""
    from valuechain.hub.access import check_download

    with db.session() as session:
        repo = find_repo(session, f"{namespace}/{name}", principal=principal)
        check_download(session, repo, principal)
    return {"ok": True}
