"""The hub's part of the demo: the bundled GGUF published as demo-provider's gated open-weights repo."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from valuechain.accounts.directory import org_id_for_slug
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Role, Scope
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.hub import service
from valuechain.hub.commits import CommitRequest, FileChange, git_blob_oid, lfs_git_oid
from valuechain.hub.models import HubAccess, HubRepo
from valuechain.hub.storage import BlobStore, open_blob_store

DEMO_REPO_NAME = "smollm2-135m-instruct"
CARD = """---
license: apache-2.0
base_model: HuggingFaceTB/SmolLM2-135M-Instruct
base_model_relation: quantized
library_name: gguf
pipeline_tag: text-generation
language: [en]
tags: [gguf, demo, smollm2]
---
# SmolLM2-135M-Instruct (Q4_1 GGUF)

A 4-bit GGUF quantisation of SmolLM2-135M-Instruct, published by demo-provider through valuechain's hub.

- **Intended use:** small instruction-following assistant for demos and tests.
- **Out of scope:** anything needing factual reliability; the model is tiny.
- **Licence:** Apache-2.0 (see LICENSE). Downloads require accepting the licence terms.
- **Get it:** `HF_ENDPOINT=http://127.0.0.1:8000/hub hf download demo-provider/smollm2-135m-instruct`
"""
LICENCE = """Apache License, Version 2.0 — https://www.apache.org/licenses/LICENSE-2.0

SmolLM2-135M-Instruct is released by Hugging Face under the Apache License 2.0. This GGUF quantisation is
redistributed under the same licence. Unless required by applicable law or agreed to in writing, the model is
distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
"""


def _org_principal(db: Database, slug: str) -> Principal:
    """The organisation itself, acting through the local CLI (the demo has no user keys to spare)."""
    with db.session() as session:
        org_id = org_id_for_slug(session, slug)
    assert org_id is not None, f"demo organisation {slug} is missing"
    return Principal(
        org_id=org_id, org_slug=slug, key_id=None, user_id="demo", role=Role.admin, scopes=frozenset(Scope)
    )


def _store_file(store: BlobStore, path: Path) -> FileChange:
    writer = store.begin_write(max_size=path.stat().st_size)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            writer.write(chunk)
    blob = writer.finish(expected_size=path.stat().st_size)
    return FileChange(
        path=path.name,
        sha256=blob.sha256,
        size=blob.size,
        git_oid=lfs_git_oid(blob.sha256, blob.size),
        is_lfs=True,
    )


def _inline(store: BlobStore, name: str, text: str) -> FileChange:
    content = text.encode()
    blob = store.put_bytes(content)
    return FileChange(
        path=name, sha256=blob.sha256, size=blob.size, git_oid=git_blob_oid(content), is_lfs=False
    )


def seed_hub_demo(db: Database, settings: Settings, gguf: Path, *, provider: str, developer: str) -> str:
    """Publish the bundled model (GGUF, card, licence) gated behind its terms; the developer has accepted.

    Idempotent: an existing repo is left as it is. Returns the repo id.
    """
    owner = _org_principal(db, provider)
    repo_id = f"{provider}/{DEMO_REPO_NAME}"
    with db.session() as session:
        namespace, name = repo_id.split("/")
        exists = session.scalar(
            select(HubRepo.id).where(HubRepo.namespace == namespace, HubRepo.name == name)
        )
    if exists is None:
        store = open_blob_store(settings)
        service.create_repo(
            db, store, principal=owner, namespace=namespace, name=name, visibility="private", url=repo_id
        )
        files = [
            _store_file(store, gguf),
            _inline(store, "README.md", CARD),
            _inline(store, "LICENSE", LICENCE),
        ]
        request = CommitRequest(
            summary="Publish SmolLM2-135M-Instruct Q4_1 GGUF", additions=files, version_label="1"
        )
        service.commit_files(db, store, principal=owner, repo_id=repo_id, branch="main", request=request)
        service.release_open_weights(db, principal=owner, repo_id=repo_id, gated="auto")
    dev = _org_principal(db, developer)
    with db.session() as session:
        repo_pk = session.scalar(
            select(HubRepo.id).where(HubRepo.namespace == namespace, HubRepo.name == name)
        )
        status = session.scalar(
            select(HubAccess.status).where(HubAccess.repo_id == repo_pk, HubAccess.org_id == dev.org_id)
        )
    if status != "accepted":
        service.accept_terms(db, principal=dev, repo_id=repo_id)
    return repo_id
