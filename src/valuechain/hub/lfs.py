"""Git LFS batch API (basic transfer): https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md

The client PUTs the bytes without its token, so upload URLs carry a short-lived HMAC signature over the
repo, the object, its size and the uploader. Which objects need an upload is decided from the repo alone
(``hub.objects``): an object stored for another repo gets the same answer as one never seen.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from valuechain.core.errors import AuthenticationError, ValidationError
from valuechain.hub.storage import is_sha256

UPLOAD_URL_TTL_S = 24 * 3600


@dataclass(frozen=True)
class UploadGrant:
    """What a signed upload URL allows: one object of one size into one repo (its internal id), by one key."""

    repo_pk: str
    oid: str
    size: int
    expires: int
    by: str


class UrlSigner:
    """Signs and checks upload grants; the key comes from settings or is random per process."""

    def __init__(self, key: str | None) -> None:
        self._key = (key or secrets.token_hex(32)).encode()

    def sign(self, grant: UploadGrant) -> str:
        message = f"{grant.repo_pk}|{grant.oid}|{grant.size}|{grant.expires}|{grant.by}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def check(self, grant: UploadGrant, signature: str, *, now: float | None = None) -> None:
        # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500 before)
        if not hmac.compare_digest(self.sign(grant).encode(), signature.encode("utf-8", "replace")):
            raise AuthenticationError("invalid upload signature")
        if grant.expires < (now or time.time()):
            raise AuthenticationError("upload URL expired; request a new one through the LFS batch API")


def requested_oids(body: dict[str, Any]) -> list[str]:
    """The well-formed object ids of a batch request."""
    return [
        str(item.get("oid", "")) for item in body.get("objects", []) if is_sha256(str(item.get("oid", "")))
    ]


def batch_response(
    body: dict[str, Any],
    *,
    repo_pk: str,
    held: dict[str, int],
    uploader: str,
    signer: UrlSigner,
    base_url: str,
    max_file_bytes: int,
) -> dict[str, Any]:
    """Answer an upload batch: objects this repo holds need no action; others get a signed PUT and a verify.

    ``held`` holds this repo's objects only, never the blob store's: existence elsewhere must not show.
    """
    if body.get("operation") != "upload":
        raise ValidationError("only the upload operation is supported; download files through /resolve")
    objects = []
    expires = int(time.time()) + UPLOAD_URL_TTL_S
    for item in body.get("objects", []):
        oid, size = str(item.get("oid", "")), int(item.get("size", -1))
        if not is_sha256(oid) or size < 0:
            objects.append(
                {"oid": oid, "size": size, "error": {"code": 422, "message": "oid must be a sha256"}}
            )
        elif size > max_file_bytes:
            message = f"file of {size} bytes exceeds the limit of {max_file_bytes} bytes"
            objects.append({"oid": oid, "size": size, "error": {"code": 413, "message": message}})
        elif held.get(oid) == size:
            objects.append({"oid": oid, "size": size})
        else:
            grant = UploadGrant(repo_pk=repo_pk, oid=oid, size=size, expires=expires, by=uploader)
            query = urlencode(
                {"repo": repo_pk, "size": size, "expires": expires, "by": uploader, "sig": signer.sign(grant)}
            )
            objects.append(
                {
                    "oid": oid,
                    "size": size,
                    "authenticated": True,
                    "actions": {
                        "upload": {
                            "href": f"{base_url}/api/lfs/upload/{oid}?{query}",
                            "expires_in": UPLOAD_URL_TTL_S,
                        },
                        "verify": {"href": f"{base_url}/api/lfs/verify/{oid}?{query}"},
                    },
                }
            )
    return {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}
