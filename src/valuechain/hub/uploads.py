"""Reading uploads: the NDJSON commit payload and streamed request bodies into the blob store.

Commit payload format: huggingface_hub ``_commit_api.py`` (``_payload_as_ndjson``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread

from valuechain.core.errors import PayloadTooLargeError, ValidationError
from valuechain.hub.commits import CommitRequest, FileChange, LfsReference, git_blob_oid
from valuechain.hub.paths import check_file_path
from valuechain.hub.storage import BlobStore, StoredBlob, is_sha256

WRITE_BATCH = 4 * 1024 * 1024


async def read_limited(chunks: AsyncIterator[bytes], *, max_bytes: int) -> bytes:
    """A whole request body, refusing more than ``max_bytes``."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(
                f"commit payload over {max_bytes} bytes; upload large files through LFS"
            )
        parts.append(chunk)
    return b"".join(parts)


async def stream_to_store(
    chunks: AsyncIterator[bytes],
    store: BlobStore,
    *,
    expected_sha256: str,
    expected_size: int,
    max_size: int,
) -> StoredBlob:
    """Stream a body into the store from a worker thread; verified before it becomes visible."""
    writer = store.begin_write(max_size=max_size, expected_sha256=expected_sha256)
    batch: list[bytes] = []
    pending = 0
    try:
        async for chunk in chunks:
            batch.append(chunk)
            pending += len(chunk)
            if pending >= WRITE_BATCH:
                await to_thread.run_sync(writer.write, b"".join(batch))
                batch, pending = [], 0
        if batch:
            await to_thread.run_sync(writer.write, b"".join(batch))
        return await to_thread.run_sync(
            lambda: writer.finish(expected_sha256=expected_sha256, expected_size=expected_size)
        )
    finally:
        writer.abort()  # no-op after finish; removes the temporary file of an upload cut off halfway


def parse_commit(body: bytes, store: BlobStore, *, max_file_bytes: int) -> CommitRequest:
    """The operations of an NDJSON commit; inline files are stored, LFS files are named by sha256."""
    request = CommitRequest(summary="")
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            key, value = item["key"], item["value"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"commit payload line {number} is not a valid operation") from exc
        if not isinstance(key, str) or not isinstance(value, dict):
            raise ValidationError(f"commit payload line {number}: `key` must be a string, `value` an object")
        _check_types(number, key, value)
        _apply_line(request, key, value, store, max_file_bytes=max_file_bytes)
    return request


# The JSON types of each operation's fields (huggingface_hub ``_commit_api._payload_as_ndjson``).
_FIELD_TYPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "header": {"summary": str, "description": str, "parentCommit": str},
    "file": {"path": str, "content": str, "encoding": str},
    "lfsFile": {"path": str, "oid": str, "algo": str, "size": int},
    "deletedFile": {"path": str},
    "deletedFolder": {"path": str},
}


def _check_types(number: int, key: str, value: dict[str, Any]) -> None:
    """A field of the wrong JSON type is the client's error (a 422 naming it), not ours (a 500)."""
    for name, kind in _FIELD_TYPES.get(key, {}).items():
        field = value.get(name)
        if field is not None and (not isinstance(field, kind) or isinstance(field, bool)):
            raise ValidationError(f"commit payload line {number}: {key}.{name} has the wrong type")


def _apply_line(
    request: CommitRequest, key: str, value: dict[str, Any], store: BlobStore, *, max_file_bytes: int
) -> None:
    if key == "header":
        request.summary = str(value.get("summary") or "")
        request.description = str(value.get("description") or "")
        request.parent_commit = value.get("parentCommit")
    elif key == "file":
        request.additions.append(_inline_file(value, store, max_file_bytes=max_file_bytes))
    elif key == "lfsFile":
        request.additions.append(_lfs_file(value))
    elif key == "deletedFile":
        request.deleted_files.append(check_file_path(str(value.get("path", ""))))
    elif key == "deletedFolder":
        request.deleted_folders.append(str(value.get("path", "")))
    else:
        raise ValidationError(f"unsupported commit operation {key!r} (copies are not supported)")


def _inline_file(value: dict[str, Any], store: BlobStore, *, max_file_bytes: int) -> FileChange:
    path = check_file_path(str(value.get("path", "")))
    if value.get("encoding") != "base64":
        raise ValidationError(f"{path}: only base64-encoded inline content is supported")
    try:
        content = base64.b64decode(value.get("content", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(f"{path}: content is not valid base64") from exc
    if len(content) > max_file_bytes:
        raise PayloadTooLargeError(f"{path} exceeds the limit of {max_file_bytes} bytes")
    blob = store.put_bytes(content)
    return FileChange(
        path=path, sha256=blob.sha256, size=blob.size, git_oid=git_blob_oid(content), is_lfs=False
    )


def _lfs_file(value: dict[str, Any]) -> LfsReference:
    """An LFS file by sha256; whether this repo may reference it is decided in the service (hub.objects)."""
    path = check_file_path(str(value.get("path", "")))
    oid = str(value.get("oid", ""))
    if value.get("algo", "sha256") != "sha256" or not is_sha256(oid):
        raise ValidationError(f"{path}: LFS files are identified by a sha256 oid")
    size = value.get("size")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ValidationError(f"{path}: size must be a non-negative integer")
    return LfsReference(path=path, oid=oid, size=size)
