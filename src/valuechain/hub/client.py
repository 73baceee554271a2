"""A small HTTP client of a valuechain hub for ``valuechain hub push/pull``: the same protocol the
huggingface_hub client speaks (preupload, LFS batch, NDJSON commit, resolve), with progress callbacks."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from valuechain.core.errors import AppError, AuthenticationError, NotFoundError, ValidationError
from valuechain.hub.paths import check_file_path

CHUNK = 1024 * 1024
SKIPPED_DIRS = {".git", ".cache", "__pycache__"}
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LocalFile:
    path: str
    source: Path
    size: int
    sha256: str


class HubClient:
    """Talks to ``<endpoint>`` (e.g. ``http://127.0.0.1:8000/hub``) with a valuechain API key."""

    def __init__(self, endpoint: str, token: str | None, *, timeout: float = 60.0) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.endpoint = endpoint.rstrip("/")
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; hub errors become AppErrors with the server's message."""
        response = self.http.request(method, url, **kwargs)
        if response.status_code >= 400:
            message = response.headers.get("x-error-message") or response.text[:500]
            error = {401: AuthenticationError, 404: NotFoundError}.get(response.status_code, AppError)
            raise error(f"{method} {url}: {response.status_code} {message}")
        return response

    def post_json(self, url: str, body: Any = None) -> Any:
        return self.call("POST", url, json=body if body is not None else {}).json()

    # -- push -------------------------------------------------------------------------------------

    def ensure_repo(self, repo_id: str, *, private: bool) -> None:
        namespace, name = repo_id.split("/", 1)
        body = {"name": name, "organization": namespace, "visibility": "private" if private else "public"}
        response = self.http.post("/api/repos/create", json=body)
        if response.status_code not in (200, 409):
            self.call("POST", "/api/repos/create", json=body)  # raises with the server's message

    def upload_modes(self, repo_id: str, files: list[LocalFile], *, revision: str) -> dict[str, str]:
        payload = {"files": [{"path": f.path, "size": f.size, "sample": _sample(f.source)} for f in files]}
        answer = self.post_json(f"/api/models/{repo_id}/preupload/{quote(revision, safe='')}", payload)
        return {item["path"]: item["uploadMode"] for item in answer["files"]}

    def upload_lfs(self, repo_id: str, files: list[LocalFile], progress: Progress) -> None:
        """Upload the objects the server lacks; ones it already has only advance the progress."""
        if not files:
            return
        body = {
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": f.sha256, "size": f.size} for f in files],
            "hash_algo": "sha256",
        }
        headers = {"accept": "application/vnd.git-lfs+json"}
        answer = self.call(
            "POST", f"/{repo_id}.git/info/lfs/objects/batch", json=body, headers=headers
        ).json()
        by_oid = {f.sha256: f for f in files}
        for item in answer["objects"]:
            if "error" in item:
                raise ValidationError(f"LFS upload refused: {item['error'].get('message')}")
            local = by_oid[item["oid"]]
            actions = item.get("actions") or {}
            if "upload" not in actions:
                progress(local.size)
                continue
            upload = httpx.put(
                actions["upload"]["href"], content=_read_chunks(local.source, progress), timeout=None,
                headers={"content-length": str(local.size)},
            )  # fmt: skip
            if upload.status_code >= 400:
                raise AppError(
                    f"upload of {local.path} failed: {upload.headers.get('x-error-message', upload.text)}"
                )

    def commit(self, repo_id: str, operations: list[dict[str, Any]], *, message: str, revision: str) -> str:
        lines = [{"key": "header", "value": {"summary": message, "description": ""}}, *operations]
        body = "\n".join(json.dumps(line) for line in lines).encode()
        url = f"/api/models/{repo_id}/commit/{quote(revision, safe='')}"
        response = self.call("POST", url, content=body, headers={"content-type": "application/x-ndjson"})
        return str(response.json()["commitOid"])

    def release_status(self, repo_id: str) -> str:
        """Whether the repo is private, published (public) or released, in words (issue 15)."""
        info = self.call("GET", f"/api/models/{repo_id}").json()
        return str((info.get("valuechain") or {}).get("release_status", ""))

    # -- pull -------------------------------------------------------------------------------------

    def snapshot(self, repo_id: str, revision: str) -> tuple[str, list[dict[str, Any]]]:
        """The commit a revision points to and its files."""
        info = self.call("GET", f"/api/models/{repo_id}/revision/{quote(revision, safe='')}").json()
        tree = self.call(
            "GET", f"/api/models/{repo_id}/tree/{info['sha']}", params={"recursive": "true"}
        ).json()
        return str(info["sha"]), [entry for entry in tree if entry["type"] == "file"]

    def download(self, repo_id: str, commit: str, path: str, target: Path, progress: Progress) -> None:
        """Stream one file to ``target`` (via a temporary file), checking its sha256 against the ETag."""
        check_file_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".incomplete")
        url = f"/{repo_id}/resolve/{commit}/{quote(path)}"
        digest = hashlib.sha256()
        with self.http.stream("GET", url, headers={"x-hf-download-counter": "1"}) as response:
            if response.status_code >= 400:
                response.read()
                raise AppError(f"download of {path} failed: {response.headers.get('x-error-message', '')}")
            expected = response.headers.get("x-linked-etag", "").strip('"')
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes(CHUNK):
                    handle.write(chunk)
                    digest.update(chunk)
                    progress(len(chunk))
        if expected and expected != digest.hexdigest():
            partial.unlink(missing_ok=True)
            raise ValidationError(f"{path}: sha256 mismatch after download")
        os.replace(partial, target)


def scan_folder(folder: Path, progress: Progress) -> list[LocalFile]:
    """Every file below ``folder`` with its size and sha256 (skipping .git and caches)."""
    files = []
    for source in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = source.relative_to(folder)
        if any(part in SKIPPED_DIRS for part in relative.parts):
            continue
        digest = hashlib.sha256()
        for chunk in _read_chunks(source, progress):
            digest.update(chunk)
        files.append(
            LocalFile(check_file_path(relative.as_posix()), source, source.stat().st_size, digest.hexdigest())
        )
    return files


def inline_operation(file: LocalFile) -> dict[str, Any]:
    content = base64.b64encode(file.source.read_bytes()).decode()
    return {"key": "file", "value": {"path": file.path, "content": content, "encoding": "base64"}}


def lfs_operation(file: LocalFile) -> dict[str, Any]:
    return {
        "key": "lfsFile",
        "value": {"path": file.path, "algo": "sha256", "oid": file.sha256, "size": file.size},
    }


def _sample(path: Path) -> str:
    with path.open("rb") as handle:
        return base64.b64encode(handle.read(512)).decode()


def _read_chunks(path: Path, progress: Progress) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress(len(chunk))
            yield chunk
