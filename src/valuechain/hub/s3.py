"""The blob store over any S3-compatible service (AWS S3, MinIO, Ceph RGW, Garage), S3 protocol only.

Keys are those of the local store under a prefix: ``PREFIX sha256/ab/cd/<digest>``. Nothing becomes
visible before its sha256 and size are verified: a blob of at most one part is hashed in memory and stored
with one PutObject; a larger one is streamed as a multipart upload, which S3 shows to nobody until it is
completed. When the digest is declared in advance (LFS uploads) the multipart upload targets the final key
and is completed only once the bytes match; otherwise it targets a temporary key (``PREFIX tmp/``) and is
copied to the final key after verification. A failed or cut-off upload is aborted; what a crashed process
left (incomplete uploads, temporary objects) is swept after a day.

Every call is blocking (boto3): callers run them in worker threads, never on the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from valuechain.core.errors import PayloadTooLargeError, ValidationError
from valuechain.core.metrics import BLOB_ERRORS
from valuechain.hub.storage import READ_CHUNK, STALE_UPLOAD_S, StoredBlob, is_sha256

log = logging.getLogger("valuechain.hub")


@dataclass(frozen=True)
class S3Config:
    """Where and how to reach the bucket; credentials are values here, read from the named env vars."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    prefix: str = ""
    access_key_id: str | None = None
    secret_access_key: str | None = None
    path_style: bool = False
    part_bytes: int = 16 * 1024 * 1024


def make_client(config: S3Config) -> Any:
    """A thread-safe boto3 S3 client; checksums only where S3 requires them (MinIO, Ceph, Garage)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(  # a session of its own: boto3's default one is not thread-safe
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=config.secret_access_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if config.path_style else "virtual"},
            retries={"max_attempts": 5, "mode": "standard"},
            max_pool_connections=64,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


@contextmanager
def _counted(operation: str) -> Iterator[None]:
    """Count a failed store call (the ``valuechain_blob_store_errors_total`` metric) and let it raise."""
    try:
        yield
    except Exception:
        BLOB_ERRORS.labels(store="s3", operation=operation).inc()
        raise


class S3BlobWriter:
    """Hashes while it uploads: one buffered part at a time, whatever the size."""

    def __init__(self, store: S3BlobStore, *, max_size: int, expected_sha256: str | None) -> None:
        self._store = store
        self._max_size = max_size
        self._expected = expected_sha256 if expected_sha256 and is_sha256(expected_sha256) else None
        self._key = store.key(self._expected) if self._expected else store.tmp_key()
        self._hash = hashlib.sha256()
        self._size = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._done = False

    def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max_size:
            self.abort()
            raise PayloadTooLargeError(f"file exceeds the limit of {self._max_size} bytes")
        self._hash.update(data)
        self._buffer += data
        part = self._store.part_bytes
        while len(self._buffer) > part:  # a blob of at most one part goes in one PutObject
            self._upload_part(bytes(self._buffer[:part]))
            del self._buffer[:part]

    def _upload_part(self, chunk: bytes) -> None:
        client, bucket = self._store.client, self._store.bucket
        with _counted("upload_part"):
            if self._upload_id is None:
                self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self._key)["UploadId"]
            number = len(self._parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=chunk
            )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})

    def finish(self, *, expected_sha256: str | None = None, expected_size: int | None = None) -> StoredBlob:
        digest = self._hash.hexdigest()
        try:
            if expected_size is not None and expected_size != self._size:
                raise ValidationError(f"size mismatch: declared {expected_size} bytes, received {self._size}")
            for declared in (expected_sha256, self._expected):
                if declared is not None and declared != digest:
                    raise ValidationError(f"sha256 mismatch: declared {declared}, received {digest}")
            if self._store.stat(digest) is None:  # else: de-duplicated, the stored bytes win
                self._publish(digest)
        finally:
            self.abort()
        return StoredBlob(sha256=digest, size=self._size)

    def _publish(self, digest: str) -> None:
        client, bucket, final = self._store.client, self._store.bucket, self._store.key(digest)
        if self._upload_id is None:
            with _counted("put"):
                client.put_object(Bucket=bucket, Key=final, Body=bytes(self._buffer))
            return
        if self._buffer:
            self._upload_part(bytes(self._buffer))
            self._buffer.clear()
        with _counted("complete"):
            client.complete_multipart_upload(
                Bucket=bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        self._upload_id = None
        if self._key != final:
            with _counted("copy"):  # the managed copy splits objects over 5 GB into part copies
                client.copy({"Bucket": bucket, "Key": self._key}, bucket, final)
                client.delete_object(Bucket=bucket, Key=self._key)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                self._store.client.abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self._key, UploadId=upload_id
                )
            except Exception:  # swept later (sweep_stale, or the bucket's lifecycle rule)
                BLOB_ERRORS.labels(store="s3", operation="abort").inc()
                log.warning("could not abort multipart upload %s of %s", upload_id, self._key, exc_info=True)

    def __del__(self) -> None:  # an upload cut off halfway leaves no incomplete upload behind
        self.abort()


class S3BlobStore:
    """Blobs as objects of one bucket; the same contract as ``LocalBlobStore``."""

    def __init__(self, config: S3Config, *, client: Any = None) -> None:
        self.config = config
        self.bucket = config.bucket
        self.prefix = config.prefix
        self.part_bytes = config.part_bytes
        self.client = client if client is not None else make_client(config)

    def key(self, sha256: str) -> str:
        if not is_sha256(sha256):
            raise ValidationError(f"not a sha256 digest: {sha256[:80]!r}")
        return f"{self.prefix}sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def tmp_key(self) -> str:
        return f"{self.prefix}tmp/upload-{secrets.token_hex(16)}"

    def begin_write(self, *, max_size: int, expected_sha256: str | None = None) -> S3BlobWriter:
        return S3BlobWriter(self, max_size=max_size, expected_sha256=expected_sha256)

    def put_bytes(self, data: bytes, *, expected_sha256: str | None = None) -> StoredBlob:
        """Store a small in-memory blob (regular files from an NDJSON commit)."""
        writer = self.begin_write(max_size=len(data))
        writer.write(data)
        return writer.finish(expected_sha256=expected_sha256, expected_size=len(data))

    def stat(self, sha256: str) -> StoredBlob | None:
        key = self.key(sha256)
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _is_missing(exc):  # a miss is an answer, not an error
                return None
            BLOB_ERRORS.labels(store="s3", operation="stat").inc()
            raise
        return StoredBlob(sha256=sha256, size=int(answer["ContentLength"]))

    def local_path(self, sha256: str) -> None:
        """Never a local file: downloads stream from the store (``read_range``) or redirect to it."""
        return None

    def read_range(self, sha256: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield bytes ``start..end`` (inclusive, like HTTP Range) in 1 MiB chunks."""
        byte_range = f"bytes={start}-{'' if end is None else end}"
        with _counted("get"):
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256), Range=byte_range)["Body"]
        try:
            with _counted("get"):
                yield from body.iter_chunks(READ_CHUNK)
        finally:
            body.close()

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob in memory; only for small files such as model cards."""
        return b"".join(self.read_range(sha256))

    def presigned_get(self, sha256: str, *, ttl_s: int = 3600) -> str:
        """A URL that GETs (with Range) the blob without credentials until it expires."""
        with _counted("presign"):
            url: str = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.key(sha256)}, ExpiresIn=ttl_s
            )
        return url

    def sweep_stale(self, *, older_than_s: float = STALE_UPLOAD_S) -> int:
        """Abort incomplete uploads and delete temporary objects a crashed process left; returns how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        swept = 0
        with _counted("sweep"):
            uploads = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
            for upload in uploads.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    swept += 1
            listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}tmp/")
            for item in listed.get("Contents", []):
                if item["LastModified"] < cutoff:
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                    swept += 1
        return swept


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")
