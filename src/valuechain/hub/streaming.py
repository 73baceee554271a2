"""Downloads from a store without local files (S3): streamed with Range and If-Range, or redirected.

RFC 9110 §14 (Range requests): one ``bytes=`` range is served as 206; several ranges, or a stale
``If-Range``, as the whole file (a server may ignore Range); a range past the end is 416.
"""

from __future__ import annotations

from collections.abc import Iterator

from anyio import to_thread
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from valuechain.hub.s3 import S3BlobStore
from valuechain.hub.storage import BlobStore


class RangeNotSatisfiableError(Exception):
    """The requested range starts past the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for one satisfiable range; None for the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if not first:  # the last N bytes
            count = int(last)
            return (max(0, size - count), size - 1) if count > 0 and size > 0 else None
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        raise RangeNotSatisfiableError
    return (start, end) if start <= end else None


async def stream_blob(
    store: BlobStore,
    *,
    sha256: str,
    size: int,
    method: str,
    range_header: str | None,
    if_range: str | None,
    headers: dict[str, str],
    media_type: str,
) -> Response:
    """The file (or its range) streamed from the store, read in a worker thread chunk by chunk."""
    if if_range is not None and if_range.strip() != headers.get("ETag"):
        range_header = None  # the client's copy is stale: send it all
    try:
        wanted = parse_range(range_header, size)
    except RangeNotSatisfiableError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted if wanted is not None else (0, size - 1)
    status = 206 if wanted is not None else 200
    headers = {**headers, "Content-Length": str(max(0, end - start + 1))}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=media_type)
    chunks: Iterator[bytes] = store.read_range(sha256, start=start, end=end)
    return StreamingResponse(
        iterate_in_threadpool(chunks), status_code=status, headers=headers, media_type=media_type
    )


async def redirect_to_store(store: S3BlobStore, *, sha256: str, headers: dict[str, str]) -> Response:
    """302 to a presigned URL of the object; the hub's headers (ETag, X-Linked-Size, …) stay on it."""
    url = await to_thread.run_sync(lambda: store.presigned_get(sha256))
    return RedirectResponse(url, status_code=302, headers=headers)
