"""Publishing a fine-tune to the hub: a private repo of the customer with the adapter and a card generated
from the job, lineage from the fine-tuned model, 404 for another organisation; only a succeeded job, only
by a writer of the job's organisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key
from tests.finetune.conftest import BASE, DATA, Seeded, seed
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import ROLE_SCOPES, Role, Scope
from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.finetune import service
from valuechain.finetune.training import Progress
from valuechain.finetune.worker import Worker
from valuechain.hub.cards import parse_card
from valuechain.hub.storage import LocalBlobStore

ADAPTER = b"GGUF-adapter" * 100
PUBLISH = "/api/v1/fine_tuning/jobs/{job}/publish"


def _job(db: Database, settings: Settings, seeded: Seeded, *, finish: bool) -> str:
    """A job of devco, finished by a worker without training (the adapter is a stand-in blob)."""
    store = LocalBlobStore(settings.resolved_hub_blob_dir)
    customer = system_principal(org_id=seeded.customer_id, org_slug="devco")
    with db.unit_of_work() as session:
        f = service.upload_file(
            session,
            store,
            principal=customer,
            filename="z.jsonl",
            purpose="fine-tune",
            content=DATA.read_bytes(),
        )
        job = service.create_job(
            session,
            store,
            service.JobCreate(model=BASE, training_file=f.id, suffix="zorbia"),
            principal=customer,
        )
    if finish:
        worker = Worker(db, store, settings, worker_id="w")
        assert worker.claim() is not None
        blob = store.put_bytes(ADAPTER)
        progress = Progress(
            step=1, total_steps=1, epoch=1, loss=1.5, tokens=640, step_tokens=640, elapsed_s=1.0
        )
        worker._on_step(job.id, progress)
        worker._finish(job.id, blob.sha256, blob.size, Path("base.gguf"), None, 6 * 1000 * 640.0, 1000)
    return job.id


@pytest.fixture
def world(db: Database, settings: Settings) -> Iterator[tuple[Seeded, TestClient]]:
    seeded = seed(db)
    with TestClient(create_app(settings, database=db)) as http:
        yield seeded, http


def test_a_fine_tune_is_published_privately_with_a_card_from_its_job(
    world: tuple[Seeded, TestClient], db: Database, settings: Settings
) -> None:
    seeded, http = world
    job_id = _job(db, settings, seeded, finish=True)
    owner = auth(seeded.customer_key)
    response = http.post(PUBLISH.format(job=job_id), headers=owner)
    assert response.status_code == 201, response.text
    published = response.json()
    repo = published["repo_id"]
    assert repo.startswith("devco/smol-zorbia-") and published["visibility"] == "private"
    info = http.get(f"/hub/api/models/{repo}", headers=owner)
    assert info.status_code == 200, info.text
    assert info.json()["private"] is True
    assert {s["rfilename"] for s in info.json()["siblings"]} >= {"README.md", "adapter.gguf"}
    adapter = http.get(f"/hub/{repo}/resolve/main/adapter.gguf", headers=owner)
    assert adapter.content == ADAPTER
    card = http.get(f"/hub/{repo}/resolve/main/README.md", headers=owner).text
    job = http.get(f"/v1/fine_tuning/jobs/{job_id}", headers=owner).json()
    facts = parse_card(card)
    assert facts.base_models == (job["fine_tuned_model"],) and facts.relation == "adapter"
    for fact in (
        BASE,
        "LoRA r=8",
        "n_epochs=",
        "Trained tokens | 640",
        "3.840e+06 FLOP, measured as 6 × 1000 parameters × 640 tokens",
        f"sha256 `{job['x_valuechain']['training_file_sha256']}`",
        "Customer-specific",
    ):
        assert fact in card, fact
    # lineage: the repo's model derives from the fine-tuned model, which derives from the base
    lineage = http.get(f"/api/v1/models/{repo}/lineage", headers=owner)
    assert lineage.status_code == 200, lineage.text
    [parent] = lineage.json()["parents"]
    assert parent["parent"] == f"{job['fine_tuned_model']}@1" and parent["relation"] == "adapter"
    # another organisation: 404 on the hub, exactly like a missing repo, and on the job
    outsider = auth(seeded.outsider_key)
    assert http.get(f"/hub/api/models/{repo}", headers=outsider).status_code == 404
    assert http.get(f"/hub/{repo}/resolve/main/adapter.gguf", headers=outsider).status_code == 404
    assert http.post(PUBLISH.format(job=job_id), headers=outsider).status_code == 404
    events = http.get(f"/v1/fine_tuning/jobs/{job_id}/events", headers=owner).json()["data"]
    assert events[0]["message"] == f"Published to the hub as {repo} (private)"


def test_publish_public_on_request_and_refused_twice(
    world: tuple[Seeded, TestClient], db: Database, settings: Settings
) -> None:
    seeded, http = world
    job_id = _job(db, settings, seeded, finish=True)
    owner = auth(seeded.customer_key)
    body = {"public": True, "name": "zorbia-adapter"}
    response = http.post(PUBLISH.format(job=job_id), json=body, headers=owner)
    assert response.status_code == 201, response.text
    assert response.json()["repo_id"] == "devco/zorbia-adapter"
    assert (
        http.get("/hub/api/models/devco/zorbia-adapter", headers=auth(seeded.outsider_key)).status_code == 200
    )
    again = http.post(PUBLISH.format(job=job_id), json=body, headers=owner)
    assert again.status_code == 409, again.text


def test_only_a_succeeded_job_by_a_writer_of_its_org(
    world: tuple[Seeded, TestClient], db: Database, settings: Settings
) -> None:
    seeded, http = world
    finished = _job(db, settings, seeded, finish=True)
    queued = _job(db, settings, seeded, finish=False)
    assert http.post(PUBLISH.format(job=queued), headers=auth(seeded.customer_key)).status_code == 409
    viewer = make_key(db, "devco", "viewer")
    assert http.post(PUBLISH.format(job=queued), headers=auth(viewer)).status_code == 403
    assert http.post(PUBLISH.format(job=queued)).status_code == 401
    scopes = sorted(s.value for s in ROLE_SCOPES[Role.owner] - {Scope.hub_write})
    no_hub_write = make_key(db, "devco", "owner", scopes=scopes)
    scoped = http.post(PUBLISH.format(job=finished), headers=auth(no_hub_write))
    assert scoped.status_code == 403 and "hub:write" in scoped.json()["error"]["message"], scoped.text
    missing = http.post(PUBLISH.format(job="ftjob_missing"), headers=auth(seeded.customer_key))
    assert missing.status_code == 404 and set(missing.json()["error"]) == {"code", "message", "details"}
