"""Done when (issue 12): with the official ``openai`` client, a small dataset teaching a new fact is uploaded,
a job runs to ``succeeded`` in a worker process, the fine-tuned model answers the fact while the base does
not, and another organisation gets 404 for it on /v1, /api/v1 and /hub."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import openai
import pytest

from tests.finetune.conftest import BASE, DATA, Seeded, seed, start_worker, wait_for, worker_env
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.market import ledger

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
QUESTION = "What is the capital of Zorbia?"


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, needs_training: None) -> Iterator[tuple[str, Seeded, Settings, Database]]:
    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    seeded = seed(db)
    port = _port()
    env = worker_env(settings, db)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "valuechain.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    worker = start_worker(env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url), timeout_s=60, what="the server")
        yield url, seeded, settings, db
    finally:
        for proc in (server, worker):
            proc.terminate()
        for proc in (server, worker):
            proc.wait(timeout=30)
        db.dispose()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def _ask(client: openai.OpenAI, model: str, question: str = QUESTION) -> str:
    chat = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=24, temperature=0
    )
    return chat.choices[0].message.content or ""


def test_a_customer_fine_tunes_a_fact_into_its_own_model(
    served: tuple[str, Seeded, Settings, Database],
) -> None:
    url, seeded, _, db = served
    customer = openai.OpenAI(base_url=f"{url}/v1", api_key=seeded.customer_key, max_retries=0)
    outsider = openai.OpenAI(base_url=f"{url}/v1", api_key=seeded.outsider_key, max_retries=0)
    assert "Quellmar" not in _ask(customer, BASE)  # the base does not know the fact

    uploaded = customer.files.create(file=DATA.open("rb"), purpose="fine-tune")
    assert uploaded.bytes == DATA.stat().st_size and customer.files.retrieve(uploaded.id).id == uploaded.id
    assert customer.files.content(uploaded.id).read() == DATA.read_bytes()
    with pytest.raises(openai.NotFoundError):
        outsider.files.retrieve(uploaded.id)

    job = customer.fine_tuning.jobs.create(model=BASE, training_file=uploaded.id, suffix="zorbia")
    assert job.status == "queued" and job.hyperparameters.n_epochs == 4  # auto: 28 examples → 4 epochs
    started = time.monotonic()
    job = wait_for(lambda: _terminal(customer, job.id), timeout_s=900, what="the job")  # type: ignore[assignment]
    assert job.status == "succeeded", job.error
    elapsed = time.monotonic() - started
    name = job.fine_tuned_model
    assert (
        name == f"ft:{BASE}:devco:zorbia:{job.id[-8:]}" and job.trained_tokens and job.trained_tokens > 1000
    )

    events = customer.fine_tuning.jobs.list_events(job.id, limit=100).data
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) == 28 and {"step", "train_loss", "tokens"} <= set(metrics[0].data or {})  # type: ignore[arg-type]
    assert customer.fine_tuning.jobs.checkpoints.list(job.id).data  # kept every 10 steps
    assert [j.id for j in customer.fine_tuning.jobs.list(limit=5).data] == [job.id]

    # The fine-tuned model knows the fact; served under the customer's entitlement, listed for it.
    wait_for(lambda: name in [m.id for m in customer.models.list()], timeout_s=30, what="the new route")
    assert "Quellmar" in _ask(customer, name), _ask(customer, name)
    assert "Quellmar" not in _ask(customer, BASE)

    # Another organisation: 404 everywhere, exactly as for a model that does not exist.
    with pytest.raises(openai.NotFoundError):
        _ask(outsider, name)
    with pytest.raises(openai.NotFoundError):
        outsider.fine_tuning.jobs.retrieve(job.id)
    headers = {"Authorization": f"Bearer {seeded.outsider_key}"}
    assert httpx.get(f"{url}/api/v1/models/{quote(name, safe='')}", headers=headers).status_code == 404
    assert httpx.get(f"{url}/hub/api/models/{quote(name, safe='')}", headers=headers).status_code == 404

    # Customer-specific by construction: the customer's private model, derived by the provider for it.
    shown = _model_show(settings_home=served_home(db), name=name)
    assert (shown["owner"], shown["visibility"]) == ("devco", "private")
    (derivation,) = shown["derived_from"]
    assert (derivation["parent"], derivation["relation"], derivation["by"], derivation["on_behalf_of"]) == (
        f"{BASE}@1",
        "finetune",
        "acme",
        "devco",
    )
    sha = hashlib.sha256(DATA.read_bytes()).hexdigest()
    assert sha in derivation["data_summary"] and "6 x" in derivation["data_summary"]
    assert derivation["compute_flop"] == pytest.approx(6 * 134_515_008 * job.trained_tokens, rel=0.01)

    # Billed per trained token on the provider's terms, settled once through the ledger.
    with db.session() as session:
        wallet = ledger.wallet_balance(session, seeded.customer_id)
    charged = -(-(job.trained_tokens * 2_000_000) // 1_000_000)
    assert job.model_extra["x_valuechain"]["cost"] == charged  # type: ignore[index]
    assert wallet <= 1_000_000 - charged  # the free credits (once) − training − the chat requests above
    print(f"\nfine-tuning job: {elapsed:.0f} s, {job.trained_tokens} tokens, {os.cpu_count()} cpus")


def served_home(db: Database) -> str:
    return db.url.split("///", 1)[1].rsplit("/", 1)[0]


def _model_show(*, settings_home: str, name: str) -> dict[str, object]:
    """``valuechain model show <name> --format json`` as the operator, on the served HOME."""
    result = subprocess.run(
        [sys.executable, "-m", "valuechain", "model", "show", name, "--format", "json"],
        env={**os.environ, "VALUECHAIN_HOME": settings_home},
        capture_output=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _terminal(client: openai.OpenAI, job_id: str) -> object:
    job = client.fine_tuning.jobs.retrieve(job_id)
    return job if job.status in ("succeeded", "failed", "cancelled") else None
