"""Git LFS batch API (basic transfer): https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md

The client PUTs the bytes without its token, so upload URLs carry a short-lived HMAC signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from valuechain.core.errors import AuthenticationError, ValidationError
from valuechain.hub.storage import LocalBlobStore, is_sha256

UPLOAD_URL_TTL_S = 24 * 3600


@dataclass(frozen=True)
class UploadGrant:
    """What a signed upload URL allows: one object of one size into one repo."""

    repo_id: str
    oid: str
    size: int
    expires: int


class UrlSigner:
    """Signs and checks upload grants; the key comes from settings or is random per process."""

    def __init__(self, key: str | None) -> None:
        self._key = (key or secrets.token_hex(32)).encode()

    def sign(self, grant: UploadGrant) -> str:
        message = f"{grant.repo_id}|{grant.oid}|{grant.size}|{grant.expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def check(self, grant: UploadGrant, signature: str, *, now: float | None = None) -> None:
        if not hmac.compare_digest(self.sign(grant), signature):
            raise AuthenticationError("invalid upload signature")
        if grant.expires < (now or time.time()):
            raise AuthenticationError("upload URL expired; request a new one through the LFS batch API")


def batch_response(
    body: dict[str, Any],
    *,
    repo_id: str,
    store: LocalBlobStore,
    signer: UrlSigner,
    base_url: str,
    max_file_bytes: int,
) -> dict[str, Any]:
    """Answer an upload batch: present objects need no action; others get a signed PUT and a verify."""
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
        elif (existing := store.stat(oid)) is not None and existing.size == size:
            objects.append({"oid": oid, "size": size})
        else:
            grant = UploadGrant(repo_id=repo_id, oid=oid, size=size, expires=expires)
            query = f"repo={repo_id}&size={size}&expires={expires}&sig={signer.sign(grant)}"
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
