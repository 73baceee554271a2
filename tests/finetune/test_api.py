"""/v1/files and /v1/fine_tuning/jobs through the app with the official ``openai`` client: shapes, paging,
tenant isolation, and bad input answered as OpenAI 4xx with nothing charged and nothing queued."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import openai
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.finetune.conftest import BASE, DATA, TERMS, Seeded, seed
from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.finetune.models import FineTuneJob
from valuechain.market import ledger
from valuechain.market.terms import FineTuningTerms, PricePlan


@pytest.fixture
def world(db: Database, settings: Settings) -> Iterator[tuple[Seeded, TestClient]]:
    seeded = seed(db)
    with TestClient(create_app(settings, database=db)) as http:
        yield seeded, http


def _client(http: TestClient, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key=key, http_client=http, max_retries=0)


def _jobs(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(FineTuneJob)) or 0)


def _wallet(db: Database, org_id: str) -> int:
    with db.session() as session:
        return ledger.wallet_balance(session, org_id)


def test_files_round_trip_and_stay_private(world: tuple[Seeded, TestClient]) -> None:
    seeded, http = world
    me, other = _client(http, seeded.customer_key), _client(http, seeded.outsider_key)
    f = me.files.create(file=("train.jsonl", DATA.read_bytes()), purpose="fine-tune")
    assert (f.object, f.purpose, f.filename, f.bytes) == (
        "file",
        "fine-tune",
        "train.jsonl",
        DATA.stat().st_size,
    )
    assert [x.id for x in me.files.list().data] == [f.id]
    assert me.files.content(f.id).read() == DATA.read_bytes()
    assert other.files.list().data == []
    for call in (other.files.retrieve, other.files.content, other.files.delete):
        with pytest.raises(openai.NotFoundError):
            call(f.id)
    assert me.files.delete(f.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        me.files.retrieve(f.id)


def test_malformed_jsonl_is_refused_at_upload(world: tuple[Seeded, TestClient]) -> None:
    seeded, http = world
    with pytest.raises(openai.BadRequestError, match="line 2 is not valid JSON"):
        _client(http, seeded.customer_key).files.create(
            file=("bad.jsonl", b'{"messages": []}\n{oops\n'), purpose="fine-tune"
        )


def test_a_job_is_queued_with_a_hold_and_cancelled_for_nothing(
    world: tuple[Seeded, TestClient], db: Database
) -> None:
    seeded, http = world
    me = _client(http, seeded.customer_key)
    before = _wallet(db, seeded.customer_id)
    f = me.files.create(file=DATA.open("rb"), purpose="fine-tune")
    job = me.fine_tuning.jobs.create(
        model=BASE, training_file=f.id, hyperparameters={"n_epochs": 2}, suffix="x", metadata={"k": "v"}
    )
    assert (job.object, job.status, job.model, job.training_file) == ("fine_tuning.job", "queued", BASE, f.id)
    assert (job.hyperparameters.n_epochs, job.hyperparameters.batch_size) == (2, 4)
    assert job.fine_tuned_model is None and job.metadata == {"k": "v"}
    held = before - _wallet(db, seeded.customer_id)
    assert held > 0 and held == job.model_extra["x_valuechain"]["hold"]  # type: ignore[index]
    assert [e.message for e in me.fine_tuning.jobs.list_events(job.id).data][0].startswith("Files validated")
    with pytest.raises(openai.NotFoundError):
        _client(http, seeded.outsider_key).fine_tuning.jobs.cancel(job.id)
    cancelled = me.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and _wallet(db, seeded.customer_id) == before
    with pytest.raises(openai.ConflictError):
        me.fine_tuning.jobs.cancel(job.id)


def test_jobs_page_newest_first(world: tuple[Seeded, TestClient]) -> None:
    seeded, http = world
    me = _client(http, seeded.customer_key)
    f = me.files.create(file=DATA.open("rb"), purpose="fine-tune")
    ids = [me.fine_tuning.jobs.create(model=BASE, training_file=f.id).id for _ in range(3)]
    first = me.fine_tuning.jobs.list(limit=2)
    assert [j.id for j in first.data] == ids[::-1][:2] and first.has_more
    rest = me.fine_tuning.jobs.list(limit=2, after=first.data[-1].id)
    assert [j.id for j in rest.data] == [ids[0]] and not rest.has_more
    assert _client(http, seeded.outsider_key).fine_tuning.jobs.list().data == []


BAD = [
    (
        "unknown hyperparameter",
        {"hyperparameters": {"n_epochs": 2, "warmup": 3}},
        openai.BadRequestError,
        "warmup",
    ),
    ("unknown field", {"frobnicate": True}, openai.BadRequestError, "frobnicate"),
    ("epochs out of range", {"hyperparameters": {"n_epochs": 0}}, openai.BadRequestError, "n_epochs"),
    ("bad suffix", {"suffix": "has space"}, openai.BadRequestError, "suffix"),
    ("unknown base", {"model": "acme/none"}, openai.NotFoundError, "does not exist"),
    ("another org's file", {"training_file": "OTHER"}, openai.NotFoundError, "not found"),
]


@pytest.mark.parametrize(("case", "change", "error", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_4xx_with_nothing_charged_or_queued(
    world: tuple[Seeded, TestClient],
    db: Database,
    case: str,
    change: dict[str, object],
    error: type,
    fragment: str,
) -> None:
    seeded, http = world
    me, other = _client(http, seeded.customer_key), _client(http, seeded.outsider_key)
    mine = me.files.create(file=DATA.open("rb"), purpose="fine-tune").id
    theirs = other.files.create(file=DATA.open("rb"), purpose="fine-tune").id
    body = {"model": BASE, "training_file": mine} | change
    if body["training_file"] == "OTHER":
        body["training_file"] = theirs
    before = _wallet(db, seeded.customer_id)
    with pytest.raises(error, match=fragment) as raised:
        me.post("/fine_tuning/jobs", body=body, cast_to=object)
    assert raised.value.body["type"] in ("invalid_request_error", None) or raised.value.status_code < 500  # type: ignore[union-attr]
    assert _jobs(db) == 0 and _wallet(db, seeded.customer_id) == before


def test_a_bad_line_fails_the_job_creation_naming_it(world: tuple[Seeded, TestClient], db: Database) -> None:
    seeded, http = world
    me = _client(http, seeded.customer_key)
    lines = DATA.read_bytes().splitlines()
    lines[3] = json.dumps({"messages": [{"role": "user", "content": "no answer"}]}).encode()
    f = me.files.create(file=io.BytesIO(b"\n".join(lines)), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError, match="line 4: the last message must be the assistant's"):
        me.fine_tuning.jobs.create(model=BASE, training_file=f.id)
    assert _jobs(db) == 0


def test_a_base_the_caller_is_not_entitled_to_is_refused(
    world: tuple[Seeded, TestClient], db: Database
) -> None:
    seeded, http = world
    other = _client(http, seeded.outsider_key)
    f = other.files.create(file=DATA.open("rb"), purpose="fine-tune")
    with pytest.raises(openai.PermissionDeniedError, match="not entitled"):
        other.fine_tuning.jobs.create(model=BASE, training_file=f.id)
    assert _jobs(db) == 0


def test_a_job_over_the_credit_is_429_insufficient_quota(db: Database, settings: Settings) -> None:
    expensive = TERMS.model_copy(
        update={"plan": PricePlan(free_credits=10), "fine_tuning": FineTuningTerms(trained_per_mtok=10**9)}
    )
    seeded = seed(db, expensive)
    with TestClient(create_app(settings, database=db)) as http:
        me = _client(http, seeded.customer_key)
        f = me.files.create(file=DATA.open("rb"), purpose="fine-tune")
        with pytest.raises(openai.RateLimitError, match="quota") as raised:
            me.fine_tuning.jobs.create(model=BASE, training_file=f.id)
    assert raised.value.code == "insufficient_quota"
    assert _jobs(db) == 0 and _wallet(db, seeded.customer_id) == 10


def test_a_base_without_fine_tuning_terms_is_refused(db: Database, settings: Settings) -> None:
    seeded = seed(db, TERMS.model_copy(update={"fine_tuning": None}))
    with TestClient(create_app(settings, database=db)) as http:
        me = _client(http, seeded.customer_key)
        f = me.files.create(file=DATA.open("rb"), purpose="fine-tune")
        with pytest.raises(openai.PermissionDeniedError, match="does not offer fine-tuning"):
            me.fine_tuning.jobs.create(model=BASE, training_file=f.id)
    assert _jobs(db) == 0
