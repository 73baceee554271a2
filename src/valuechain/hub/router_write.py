"""Write API of the hub: repos (create, delete, move), settings, branches and tags, super-squash, LFS files,
validate-yaml, preupload, commit, Xet refusal."""

from __future__ import annotations

import time
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from valuechain.accounts.authz import Action
from valuechain.core.errors import ValidationError
from valuechain.core.schema import InputModel
from valuechain.hub import maintenance, service
from valuechain.hub.cards import card_errors, card_warnings
from valuechain.hub.deps import CurrentPrincipal, DbDep, MaybePrincipal, SettingsDep, StoreDep, hub_url
from valuechain.hub.errors import XET_UNSUPPORTED_PATH, RepoNotFoundError
from valuechain.hub.storage import is_sha256
from valuechain.hub.uploads import parse_commit, read_limited

router = APIRouter(prefix="/api")


class RepoCreate(BaseModel):
    """``create_repo`` body (huggingface_hub ``hf_api.create_repo``)."""

    model_config = ConfigDict(extra="allow")
    name: str
    organization: str | None = None
    type: str | None = Field(default="model")
    visibility: str | None = None
    private: bool | None = None


class RepoRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    organization: str | None = None
    type: str | None = "model"


class RepoSettings(BaseModel):
    model_config = ConfigDict(extra="allow")
    gated: str | bool | None = None
    visibility: str | None = None
    private: bool | None = None


def _only_models(repo_type: str | None) -> None:
    if repo_type not in (None, "model"):
        raise ValidationError(f"only model repos are supported, not {repo_type!r}")


@router.post("/repos/create")
def create_repo(
    body: RepoCreate, request: Request, db: DbDep, store: StoreDep, principal: CurrentPrincipal
) -> dict[str, str]:
    """``create_repo``; a 409 body still carries ``url`` (the client reads it with ``exist_ok``)."""
    _only_models(body.type)
    namespace = body.organization or principal.org_slug
    visibility = body.visibility or ("private" if body.private else "public")
    url = f"{hub_url(request)}/{namespace}/{body.name}"
    repo = service.create_repo(
        db, store, principal=principal, namespace=namespace, name=body.name, visibility=visibility, url=url
    )
    return {"url": url, "name": repo.repo_id, "id": repo.id}


@router.delete("/repos/delete")
def delete_repo(body: RepoRef, db: DbDep, principal: CurrentPrincipal) -> dict[str, str]:
    """``delete_repo``; a dataset or space is a repo that does not exist here (``missing_ok``)."""
    repo_id = f"{body.organization or principal.org_slug}/{body.name}"
    if body.type not in (None, "model"):
        raise RepoNotFoundError(repo_id)
    service.delete_repo(db, principal=principal, repo_id=repo_id)
    return {}


class RepoMove(BaseModel):
    """``move_repo`` body."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    from_repo: str = Field(alias="fromRepo")
    to_repo: str = Field(alias="toRepo")
    type: str | None = "model"


@router.post("/repos/move")
def move_repo(body: RepoMove, db: DbDep, principal: CurrentPrincipal) -> dict[str, str]:
    """``move_repo``: rename inside the organisation's namespace; the old name keeps working."""
    if body.type not in (None, "model"):
        raise RepoNotFoundError(body.from_repo)
    repo = maintenance.move_repo(db, principal=principal, from_id=body.from_repo, to_id=body.to_repo)
    return {"name": repo.repo_id}


@router.post("/models/{namespace}/{name}/super-squash/{branch:path}")
def super_squash(
    namespace: str,
    name: str,
    branch: str,
    db: DbDep,
    principal: CurrentPrincipal,
    body: dict[str, Any] | None = Body(default=None),
) -> dict[str, str]:
    """``super_squash_history``: one commit with the branch's current files replaces its history."""
    message = str((body or {}).get("message") or f"Super-squash branch '{branch}'")
    commit_id = maintenance.super_squash(
        db, principal=principal, repo_id=f"{namespace}/{name}", branch=branch, message=message
    )
    return {"commitId": commit_id}


@router.get("/models/{namespace}/{name}/lfs-files")
def list_lfs_files(namespace: str, name: str, db: DbDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """``list_lfs_files``: the LFS objects the repo holds (manager only)."""
    return maintenance.list_lfs_files(db, principal=principal, repo_id=f"{namespace}/{name}")


@router.post("/models/{namespace}/{name}/lfs-files/batch")
def delete_lfs_files(
    namespace: str, name: str, db: DbDep, principal: CurrentPrincipal, body: dict[str, Any] = Body()
) -> dict[str, str]:
    """``permanently_delete_lfs_files``: ``{"deletions": {"sha": [...], "rewriteHistory": true}}``."""
    deletions = body.get("deletions") or {}
    oids = deletions.get("sha") if isinstance(deletions, dict) else None
    if not isinstance(oids, list) or not all(isinstance(o, str) and is_sha256(o) for o in oids):
        raise ValidationError("deletions.sha must be a list of sha256 object ids")
    maintenance.delete_lfs_files(
        db,
        principal=principal,
        repo_id=f"{namespace}/{name}",
        oids=oids,
        rewrite_history=bool(deletions.get("rewriteHistory", True)),
    )
    return {}


@router.put("/models/{namespace}/{name}/settings")
def update_settings(
    namespace: str, name: str, body: RepoSettings, db: DbDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """``update_repo_settings``: ``gated`` (auto, manual, false) and ``visibility``."""
    visibility = body.visibility or (
        None if body.private is None else ("private" if body.private else "public")
    )
    repo = service.update_settings(
        db, principal=principal, repo_id=f"{namespace}/{name}", visibility=visibility, gated=body.gated
    )
    return {"gated": repo.gated or False, "private": repo.visibility == "private"}


@router.post("/models/{namespace}/{name}/branch/{branch:path}")
def create_branch(
    namespace: str,
    name: str,
    branch: str,
    db: DbDep,
    principal: CurrentPrincipal,
    body: dict[str, Any] | None = Body(default=None),
) -> dict[str, str]:
    start = str((body or {}).get("startingPoint") or "main")
    service.create_ref(
        db, principal=principal, repo_id=f"{namespace}/{name}", kind="branch", name=branch, target=start
    )
    return {}


@router.delete("/models/{namespace}/{name}/branch/{branch:path}")
def delete_branch(
    namespace: str, name: str, branch: str, db: DbDep, principal: CurrentPrincipal
) -> dict[str, str]:
    service.delete_ref(db, principal=principal, repo_id=f"{namespace}/{name}", kind="branch", name=branch)
    return {}


@router.post("/models/{namespace}/{name}/tag/{revision:path}")
def create_tag(
    namespace: str,
    name: str,
    revision: str,
    db: DbDep,
    principal: CurrentPrincipal,
    body: dict[str, Any] = Body(),
) -> dict[str, str]:
    tag = str(body.get("tag", ""))
    service.create_ref(
        db, principal=principal, repo_id=f"{namespace}/{name}", kind="tag", name=tag, target=revision
    )
    return {}


@router.delete("/models/{namespace}/{name}/tag/{tag:path}")
def delete_tag(namespace: str, name: str, tag: str, db: DbDep, principal: CurrentPrincipal) -> dict[str, str]:
    service.delete_ref(db, principal=principal, repo_id=f"{namespace}/{name}", kind="tag", name=tag)
    return {}


@router.post("/validate-yaml")
def validate_yaml(
    request: Request, principal: MaybePrincipal, body: dict[str, Any] = Body()
) -> dict[str, list[dict[str, str]]]:
    """The client posts README.md here before committing it; it reads JSON before the status. Each client
    (key, else address) has a budget of calls a minute."""
    client = principal.key_id if principal and principal.key_id else (request.client or ("?",))[0]
    request.app.state.validate_throttle.check(str(client))
    content = str(body.get("content", ""))
    errors, warnings = card_errors(content), [{"message": w} for w in card_warnings(content)]
    if errors:
        return JSONResponse(  # type: ignore[return-value]
            {"errors": [{"message": e} for e in errors], "warnings": warnings}, status_code=400
        )
    return {"errors": [], "warnings": warnings}


class PreuploadFile(InputModel):
    """One file of a ``preupload`` body (huggingface_hub ``_fetch_upload_modes``)."""

    model_config = ConfigDict(extra="allow")
    path: str
    size: int = Field(default=0, ge=0)
    sample: str | None = None


class PreuploadRequest(InputModel):
    """``preupload`` body: the files about to be committed, and the repo's ``.gitignore`` if any."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    files: list[PreuploadFile] = Field(default_factory=list)
    git_ignore: str | None = Field(default=None, alias="gitIgnore")


@router.post("/models/{namespace}/{name}/preupload/{revision}")
def preupload(
    namespace: str,
    name: str,
    revision: str,
    db: DbDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    store: StoreDep,
    body: PreuploadRequest,
) -> dict[str, Any]:
    """LFS for ``.gitattributes`` patterns and large files, inline otherwise; ``oid`` lets the client skip
    unchanged files."""
    files = [(item.path, item.size) for item in body.files]
    answers = service.preupload(
        db,
        store,
        principal=principal,
        repo_id=f"{namespace}/{name}",
        revision=revision,
        files=files,
        inline_max_bytes=settings.hub_inline_max_bytes,
        gitignore=body.git_ignore,
    )
    return {
        "files": [
            {
                "path": a.path,
                "uploadMode": a.upload_mode,
                "shouldIgnore": a.should_ignore,
                "oid": a.remote_oid,
            }
            for a in answers
        ]
    }


@router.post("/models/{namespace}/{name}/commit/{revision}")
async def create_commit(
    namespace: str,
    name: str,
    revision: str,
    request: Request,
    db: DbDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    store: StoreDep,
) -> dict[str, Any]:
    """NDJSON commit; a stale ``parentCommit`` or a concurrent commit to the branch gets 412."""
    repo_id = f"{namespace}/{name}"
    if request.query_params.get("create_pr") in ("1", "true", "True"):
        # Never fall back to committing on the branch: the caller asked for a review step.
        raise ValidationError("pull requests are not supported by this hub; commit to a branch instead")
    service.check_repo(db, principal=principal, repo_id=repo_id, action=Action.repo_write)  # before the body
    body = await read_limited(request.stream(), max_bytes=settings.hub_max_commit_bytes)
    commit_request = await to_thread.run_sync(
        lambda: parse_commit(body, store, max_file_bytes=settings.hub_max_file_bytes)
    )
    commit = await to_thread.run_sync(
        lambda: service.commit_files(
            db,
            store,
            principal=principal,
            repo_id=repo_id,
            branch=revision,
            request=commit_request,
        )
    )
    url = f"{hub_url(request)}/{namespace}/{name}/commit/{commit.id}"
    return {"commitOid": commit.id, "commitUrl": url, "pullRequestUrl": None, "success": True}


@router.get("/models/{namespace}/{name}/xet-write-token/{revision}")
@router.get("/models/{namespace}/{name}/xet-read-token/{revision}")
def xet_token(
    namespace: str, name: str, revision: str, request: Request, db: DbDep, principal: CurrentPrincipal
) -> Response:
    """Xet is not implemented. hf_xet reports only the URL it failed on, so the CAS URL handed out here
    spells the fix; every call under it then fails with the full message."""
    action = Action.repo_write if "/xet-write-token/" in request.url.path else Action.repo_read
    service.check_repo(db, principal=principal, repo_id=f"{namespace}/{name}", action=action)
    cas = f"{hub_url(request)}/{XET_UNSUPPORTED_PATH}"
    expires = str(int(time.time()) + 60)
    headers = {"X-Xet-Cas-Url": cas, "X-Xet-Access-Token": "unsupported", "X-Xet-Token-Expiration": expires}
    return JSONResponse({"casUrl": cas, "accessToken": "unsupported", "exp": int(expires)}, headers=headers)
