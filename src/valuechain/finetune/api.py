"""REST routes of the fine-tuning service under ``/api/v1`` (what OpenAI's API has no word for): publishing
a fine-tune to the hub."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.db import Database
from valuechain.core.http import get_db
from valuechain.core.schema import InputModel
from valuechain.finetune.publish import publish_job
from valuechain.finetune.router import blob_store

router = APIRouter(prefix="/api/v1", tags=["fine-tuning"])


class PublishRequest(InputModel):
    public: bool = Field(False, description="Make the repo public; by default it is private to your org.")
    name: str | None = Field(
        None, max_length=96, description="Repo name in your namespace; default `<base>-<suffix>-<job>`."
    )


class PublishedPublic(BaseModel):
    repo_id: str = Field(description="`<org>/<name>` on the hub.")
    url: str
    visibility: str
    commit: str
    adapter_sha256: str


@router.post("/fine_tuning/jobs/{job_id}/publish", status_code=201)
def publish_fine_tune(
    job_id: str,
    request: Request,
    principal: CurrentPrincipal,
    db: Annotated[Database, Depends(get_db)],
    body: PublishRequest | None = None,
) -> PublishedPublic:
    """Publish a succeeded job's adapter to the hub with a model card generated from the job."""
    body = body or PublishRequest()
    hub = str(request.base_url).rstrip("/") + "/hub"
    done = publish_job(
        db, blob_store(request), job_id, principal=principal, public=body.public, name=body.name, url=hub
    )
    return PublishedPublic(
        repo_id=done.repo_id,
        url=done.url,
        visibility=done.visibility,
        commit=done.commit_id,
        adapter_sha256=done.adapter_sha256,
    )
