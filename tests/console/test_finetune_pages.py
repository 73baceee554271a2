"""The console's fine-tuning pages: the organisation's jobs, a job page with its loss chart, events,
checkpoints and resulting model, cancel with CSRF; another organisation's job is a 404 like a missing one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import PASSWORD, csrf_of, sign_in
from tests.finetune.conftest import Seeded, seed
from tests.finetune.test_publish import _job
from valuechain.accounts import sessions
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings


@pytest.fixture
def world(db: Database, settings: Settings) -> Iterator[tuple[Seeded, TestClient]]:
    seeded = seed(db)
    with db.unit_of_work() as session:
        for slug in ("devco", "outco"):
            sessions.set_user(
                session,
                f"{slug}@example.com",
                slug,
                role=Role.admin,
                password=PASSWORD,
                principal=system_principal(),
            )
        sessions.set_user(
            session,
            "viewer@example.com",
            "devco",
            role=Role.viewer,
            password=PASSWORD,
            principal=system_principal(),
        )
    with TestClient(create_app(settings, database=db)) as client:
        yield seeded, client


def test_jobs_list_and_job_page(world: tuple[Seeded, TestClient], db: Database, settings: Settings) -> None:
    seeded, client = world
    done = _job(db, settings, seeded, finish=True)
    sign_in(client, "devco@example.com")
    listing = client.get("/fine-tuning")
    assert listing.status_code == 200 and f'href="/fine-tuning/{done}"' in listing.text
    page = client.get(f"/fine-tuning/{done}")
    assert page.status_code == 200, page.text
    assert 'id="status">succeeded' in page.text
    assert "<polyline" in page.text and "step 1: 1.5000" in page.text  # the loss chart
    assert "Published" not in page.text and "New fine-tuned model created" in page.text
    assert 'id="cancel"' not in page.text  # a finished job has no cancel button
    model = client.get(f"/fine-tuning/{done}?format=json&table=loss").json()
    assert model == [{"step": 1, "train_loss": 1.5}]
    link = page.text.split('id="model"><a href="', 1)[1].split('"', 1)[0]
    assert link.startswith("/models/ft:acme/smol:devco:zorbia:")
    assert client.get(link).status_code == 200  # the fine-tuned model's own page
    # another organisation: the list has none of it, the page is a 404 like a missing job
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    sign_in(client, "outco@example.com")
    assert done not in client.get("/fine-tuning").text
    assert client.get(f"/fine-tuning/{done}").status_code == 404
    assert client.get(link).status_code == 404


def test_cancel_needs_csrf_and_a_writer(
    world: tuple[Seeded, TestClient], db: Database, settings: Settings
) -> None:
    seeded, client = world
    queued = _job(db, settings, seeded, finish=False)
    sign_in(client, "viewer@example.com")
    page = client.get(f"/fine-tuning/{queued}")
    assert page.status_code == 200 and 'id="cancel"' not in page.text  # a viewer may not cancel
    refused = client.post(f"/fine-tuning/{queued}/cancel", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    sign_in(client, "devco@example.com")
    page = client.get(f"/fine-tuning/{queued}")
    assert 'id="cancel"' in page.text
    assert client.post(f"/fine-tuning/{queued}/cancel", follow_redirects=False).status_code == 403  # no token
    done = client.post(
        f"/fine-tuning/{queued}/cancel", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/fine-tuning/{queued}"
    after = client.get(f"/fine-tuning/{queued}").text
    assert 'id="status">cancelled' in after and "Job cancelled before it started" in after
