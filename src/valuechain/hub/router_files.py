"""``/{repo}/resolve/{revision}/{path}``: file downloads with the headers huggingface_hub requires.

X-Repo-Commit and X-Linked-Etag (sha256) and X-Linked-Size on every answer, Range/206 and If-Range for
resumable downloads, constant memory (the file is streamed from disk, or from the object store, in 1 MiB
chunks; or, when the settings say so, redirected to a presigned URL of the object store).
"""

from __future__ import annotations

from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from starlette.responses import FileResponse

from valuechain.core.clock import utcnow
from valuechain.hub import service
from valuechain.hub.deps import DbDep, MaybePrincipal, SettingsDep, StoreDep, hub_url
from valuechain.hub.downloads import is_counted_file
from valuechain.hub.errors import XET_UNSUPPORTED_PATH, XetNotSupportedError
from valuechain.hub.paths import check_file_path
from valuechain.hub.s3 import S3BlobStore
from valuechain.hub.streaming import redirect_to_store, stream_blob

router = APIRouter()


class BlobResponse(FileResponse):
    """FileResponse with 1 MiB chunks: the default 64 KiB caps throughput at about a fifth."""

    chunk_size = 1024 * 1024


# One route per method: OpenAPI needs one operation id per method.
@router.get("/{namespace}/{name}/resolve/{revision}/{path:path}")
@router.head("/{namespace}/{name}/resolve/{revision}/{path:path}")
async def resolve_file(
    namespace: str,
    name: str,
    revision: str,
    path: str,
    request: Request,
    db: DbDep,
    principal: MaybePrincipal,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    """Serve one file of a revision; gated and private repos are checked first."""
    check_file_path(path)
    served = await to_thread.run_sync(
        lambda: service.open_file(
            db, principal=principal, repo_id=f"{namespace}/{name}", revision=revision, path=path
        )
    )
    local = store.local_path(served.sha256)
    if local is None and await to_thread.run_sync(lambda: store.stat(served.sha256)) is None:
        raise FileNotFoundError(served.sha256)  # the database names a blob the store lost
    if request.method == "GET" and is_counted_file(path) and "range" not in request.headers:
        await to_thread.run_sync(
            lambda: service.record_download(
                db,
                principal=principal,
                repo_id=served.repo_id,
                commit_id=served.commit_id,
                day=utcnow().date(),
            )
        )
    headers, media_type = _headers(served, hub_url(request)), _media_type(path)
    if local is not None:
        return BlobResponse(local, headers=headers, media_type=media_type)
    if settings.s3_presign_downloads and isinstance(store, S3BlobStore):
        return await redirect_to_store(store, sha256=served.sha256, headers=headers)
    return await stream_blob(
        store,
        sha256=served.sha256,
        size=served.size,
        method=request.method,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        headers=headers,
        media_type=media_type,
    )


def _headers(served: service.ServedFile, base_url: str) -> dict[str, str]:
    headers = {
        "ETag": f'"{served.sha256}"',
        "X-Linked-Etag": f'"{served.sha256}"',
        "X-Linked-Size": str(served.size),
        "X-Repo-Commit": served.commit_id,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(served.path.rsplit('/', 1)[-1])}",
        "Cache-Control": "private, max-age=0",
    }
    if served.licence:
        headers["X-License"] = served.licence.encode("ascii", "replace").decode()
    if served.licence_path:
        url = (
            f"{base_url.rstrip('/')}/{served.repo_id}/resolve/{served.commit_id}/{quote(served.licence_path)}"
        )
        headers["Link"] = f'<{url}>; rel="license"'
    return headers


def _media_type(path: str) -> str:
    if path.endswith((".json", ".md", ".txt", ".yaml", ".yml", ".jinja")) or path.rsplit("/", 1)[
        -1
    ].startswith("LICEN"):
        return "text/plain; charset=utf-8" if not path.endswith(".json") else "application/json"
    return "application/octet-stream"


@router.api_route(
    f"/{XET_UNSUPPORTED_PATH}/{{rest:path}}", methods=["GET", "POST", "PUT", "HEAD"], include_in_schema=False
)
def xet_unsupported(rest: str) -> None:
    """Every Xet CAS call ends here, with the message that says what to set."""
    raise XetNotSupportedError()
