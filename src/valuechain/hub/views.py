"""The JSON shapes huggingface_hub parses (ModelInfo, tree entries, siblings), per ``hf_api.py``.

https://huggingface.co/docs/huggingface_hub/package_reference/hf_api#huggingface_hub.ModelInfo
Our extensions (``valuechain``) are grouped under one key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.hub import lineage
from valuechain.hub.cards import card_from_raw
from valuechain.hub.commits import lfs_pointer
from valuechain.hub.downloads import download_totals
from valuechain.hub.models import HubCommit, HubCommitFile, HubRepo
from valuechain.hub.repos import DEFAULT_BRANCH, is_owner, list_files, resolve_revision, used_storage


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def sibling(entry: HubCommitFile, *, with_blobs: bool) -> dict[str, Any]:
    """``siblings[]``: size, blobId and lfs appear only with ``?blobs=true``."""
    data: dict[str, Any] = {"rfilename": entry.path}
    if with_blobs:
        data.update(size=entry.size, blobId=entry.git_oid)
        if entry.is_lfs:
            data["lfs"] = {"sha256": entry.sha256, "size": entry.size, "pointerSize": len(_pointer(entry))}
    return data


def tree_file(entry: HubCommitFile) -> dict[str, Any]:
    """A tree entry; ``oid``, ``size`` and ``path`` are required by the client; never ``xetHash``."""
    data: dict[str, Any] = {"type": "file", "oid": entry.git_oid, "size": entry.size, "path": entry.path}
    if entry.is_lfs:
        data["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": len(_pointer(entry))}
    return data


def tree_dir(path: str) -> dict[str, Any]:
    return {"type": "directory", "oid": "0" * 40, "size": 0, "path": path}


def _pointer(entry: HubCommitFile) -> bytes:
    return lfs_pointer(entry.sha256, entry.size)


def model_info(
    session: Session,
    repo: HubRepo,
    *,
    principal: Principal | None,
    revision: str | None,
    with_blobs: bool,
    today: date,
) -> dict[str, Any]:
    """``GET /api/models/{repo}[/revision/{rev}]``."""
    commit = resolve_revision(session, repo, revision or DEFAULT_BRANCH)
    files = list_files(session, commit)
    card = parse_card_dict(commit)
    recent, all_time = download_totals(session, repo, today=today)
    parents = lineage.parents(session, commit.version_id)
    viewer = None if principal is None else principal.org_id
    children = lineage.children(session, repo.model_id, viewer_org_id=viewer)
    info: dict[str, Any] = {
        "_id": repo.id,
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "author": repo.namespace,
        "sha": commit.id,
        "lastModified": iso(commit.created_at),
        "createdAt": iso(repo.created_at),
        "private": repo.visibility == "private",
        "gated": repo.gated or False,
        "disabled": False,
        "downloads": recent,
        "downloadsAllTime": all_time,
        "likes": 0,
        "library_name": card.get("library_name"),
        "pipeline_tag": card.get("pipeline_tag"),
        "tags": card_tags(commit),
        "cardData": card or None,
        "siblings": [sibling(f, with_blobs=with_blobs) for f in files],
        "usedStorage": used_storage(session, commit),
        "spaces": [],
        "childrenModelCount": lineage.children_counts(children),
        "valuechain": _extension(repo, commit, children, principal),
    }
    if parents:
        info["baseModels"] = {"relation": parents[0].relation, "models": [{"id": p.id} for p in parents]}
    return info


def _extension(
    repo: HubRepo, commit: HubCommit, children: list[lineage.LineageNode], principal: Principal | None
) -> dict[str, Any]:
    """Our additions to ModelInfo (the client keeps unknown keys)."""
    return {
        "licence": repo.licence_name if repo.licence == "other" else repo.licence,
        "released": repo.released_at is not None,
        "release_status": release_status(repo),
        "children": [{"id": c.id, "relation": c.relation} for c in children],
        "model_id": repo.model_id,
        "version_id": commit.version_id,
        "is_owner": is_owner(repo, principal),
    }


def release_status(repo: HubRepo) -> str:
    """In plain words: a public repo without a licence is published, not released (issue 15)."""
    if repo.visibility != "public":
        return "private"
    if repo.licence is None:
        return "published, not released: no licence (releasing needs one in the model card)"
    return "released" if repo.released_at is not None else "published, not released"


def parse_card_dict(commit: HubCommit) -> dict[str, Any]:
    return dict(commit.card or {})


def card_tags(commit: HubCommit) -> list[str]:
    """Tags derived from the card the way the Hub derives them."""
    return card_from_raw(commit.card).hub_tags() if commit.card else []
