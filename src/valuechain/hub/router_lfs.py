"""LFS endpoints: the batch call, the signed streaming PUT, and verify."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from valuechain.core.errors import ValidationError
from valuechain.core.schema import InputModel
from valuechain.hub import service
from valuechain.hub.deps import CurrentPrincipal, DbDep, SettingsDep, StoreDep, hub_url
from valuechain.hub.lfs import UploadGrant, UrlSigner
from valuechain.hub.uploads import stream_to_store

router = APIRouter()
LFS_JSON = "application/vnd.git-lfs+json"


def _signer(request: Request, settings: SettingsDep) -> UrlSigner:
    state = request.app.state
    if getattr(state, "signer", None) is None:
        state.signer = UrlSigner(settings.hub_upload_secret)
    return state.signer  # type: ignore[no-any-return]


class LfsObjectSpec(InputModel):
    """An object of a batch request (https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md)."""

    model_config = ConfigDict(extra="allow")
    oid: str
    size: int


class LfsBatchRequest(InputModel):
    """A batch request; a well-typed object with a bad oid or size still gets its own per-object error."""

    model_config = ConfigDict(extra="allow")
    operation: str
    objects: list[LfsObjectSpec] = Field(default_factory=list)
    transfers: list[str] | None = None


@router.post("/{namespace}/{name}.git/info/lfs/objects/batch")
def lfs_batch(
    namespace: str,
    name: str,
    request: Request,
    db: DbDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    body: LfsBatchRequest,
) -> JSONResponse:
    """Which objects to upload, with where to PUT them."""
    answer = service.lfs_batch(
        db,
        principal=principal,
        repo_id=f"{namespace}/{name}",
        body=body.model_dump(),
        signer=_signer(request, settings),
        base_url=hub_url(request),
        max_file_bytes=settings.hub_max_file_bytes,
    )
    return JSONResponse(answer, media_type=LFS_JSON)


def _grant(oid: str, repo: str, size: int, expires: int, by: str) -> UploadGrant:
    return UploadGrant(repo_pk=repo, oid=oid, size=size, expires=expires, by=by)


@router.put("/api/lfs/upload/{oid}")
async def lfs_upload(
    oid: str,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    store: StoreDep,
    repo: str,
    size: int,
    expires: int,
    by: str,
    sig: str,
) -> dict[str, Any]:
    """Stream the body to a temporary file, verify sha256 and size, publish it atomically (bytes already on
    disk stay as they are), then record that the signed grant's repo holds the object."""
    grant = _grant(oid, repo, size, expires, by)
    _signer(request, settings).check(grant, sig)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != size:
        raise ValidationError(f"Content-Length {declared} differs from the declared size {size}")
    blob = await stream_to_store(
        request.stream(), store, expected_sha256=oid, expected_size=size, max_size=settings.hub_max_file_bytes
    )
    await to_thread.run_sync(lambda: service.record_upload(db, grant=grant))
    return {"oid": blob.sha256, "size": blob.size}


@router.post("/api/lfs/verify/{oid}")
def lfs_verify(
    oid: str,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    store: StoreDep,
    repo: str,
    size: int,
    expires: int,
    by: str,
    sig: str,
) -> dict[str, Any]:
    """Confirm the object is stored and held by the repo with the declared size."""
    grant = _grant(oid, repo, size, expires, by)
    _signer(request, settings).check(grant, sig)
    service.verify_upload(db, store, grant=grant)
    return {"oid": oid, "size": size}
