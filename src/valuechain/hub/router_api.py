"""Read API of the hub: whoami, model info, listing, trees, refs and commits (``hf_api.py`` endpoints)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request, Response

from valuechain.hub import browse
from valuechain.hub.deps import CurrentPrincipal, DbDep, MaybePrincipal

router = APIRouter(prefix="/api")


@router.get("/whoami-v2")
def whoami(db: DbDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The caller as the client's ``whoami`` expects it; repos are namespaced by organisation."""
    role = "write" if principal.role.value != "viewer" else "read"
    return {
        "type": "user",
        "name": principal.org_slug,
        "fullname": browse.organisation_name(db, principal=principal),
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
    page, more = browse.list_models(
        db,
        principal=principal,
        search=search,
        author=author,
        tags=filter,
        sort=sort,
        limit=limit,
        offset=offset,
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
    return browse.get_model_info(
        db, principal=principal, repo_id=f"{namespace}/{name}", revision=revision, with_blobs=blobs
    )


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
    expand: bool = False,
) -> list[dict[str, Any]]:
    """``list_repo_tree``: files and folders under ``path`` at a revision; ``expand`` adds lastCommit."""
    return browse.list_tree(
        db,
        principal=principal,
        repo_id=f"{namespace}/{name}",
        revision=revision,
        path=path,
        recursive=recursive,
        expand=expand,
    )


@router.post("/models/{namespace}/{name}/paths-info/{revision}")
def paths_info(
    namespace: str,
    name: str,
    revision: str,
    db: DbDep,
    principal: MaybePrincipal,
    paths: list[str] = Form(default=[]),
    expand: bool = Form(default=False),
) -> list[dict[str, Any]]:
    """``get_paths_info``: the entries for the given paths (form-encoded); unknown paths are skipped;
    ``expand`` adds each file's lastCommit."""
    return browse.paths_info(
        db, principal=principal, repo_id=f"{namespace}/{name}", revision=revision, paths=paths, expand=expand
    )


@router.get("/models/{namespace}/{name}/refs")
def get_refs(namespace: str, name: str, db: DbDep, principal: MaybePrincipal) -> dict[str, Any]:
    """``list_repo_refs``."""
    return browse.list_repo_refs(db, principal=principal, repo_id=f"{namespace}/{name}")


@router.get("/models/{namespace}/{name}/commits/{revision}")
def get_commits(
    namespace: str, name: str, revision: str, db: DbDep, principal: MaybePrincipal, formatted: bool = False
) -> list[dict[str, Any]]:
    """``list_repo_commits``: newest first; ``formatted`` adds HTML title and message."""
    return browse.list_repo_commits(
        db, principal=principal, repo_id=f"{namespace}/{name}", revision=revision, formatted=formatted
    )


@router.get("/models/{namespace}/{name}/auth-check")
def auth_check(namespace: str, name: str, db: DbDep, principal: MaybePrincipal) -> dict[str, Any]:
    """``auth_check``: RepoNotFound or GatedRepo unless the caller can read the files."""
    browse.check_files_access(db, principal=principal, repo_id=f"{namespace}/{name}")
    return {"ok": True}
