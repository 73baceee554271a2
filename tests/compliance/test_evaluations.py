"""Evaluation runs (issue 13 point 6): a shipped suite over a model's channels, stored as evidence.

Annex XI §2(1)-(2) (evaluation results and strategies in the technical documentation), Art. 55(1)(a) (model
evaluation of systemic-risk models), Art. 74 / Art. 92 (evaluations by the authority: an inspector's run).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.accounts.principal import system_principal
from valuechain.compliance import evaluation, service
from valuechain.core.db import Database
from valuechain.core.errors import NotFoundError
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import load_manifest
from valuechain.runtime.base import Backend, JsonDict

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


class ScriptedBackend(Backend):
    """A test double of a served model: echoed prompt logprobs that favour ``prefer``'s choice per prompt.

    It records every request, so a test sees what the runner sent over the channel."""

    served_name = "scripted"

    def __init__(self, prefer: dict[str, str]) -> None:
        self.prefer = prefer
        self.requests: list[JsonDict] = []
        self.closed = False

    async def completion(self, body: JsonDict) -> JsonDict:
        self.requests.append(body)
        prompt: str = body["prompt"]
        cut = prompt.index("Answer:") + len("Answer:")
        answer = prompt[cut:].strip()
        lp = -0.1 if self.prefer.get(prompt[:cut]) == answer else -5.0
        return {
            "choices": [{"text": prompt, "logprobs": {"text_offset": [0, cut], "token_logprobs": [None, lp]}}]
        }

    async def close(self) -> None:
        self.closed = True

    async def chat(self, body: JsonDict) -> JsonDict:
        raise NotImplementedError

    def chat_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:
        raise NotImplementedError

    def completion_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:
        raise NotImplementedError

    async def embeddings(self, body: JsonDict) -> JsonDict:
        raise NotImplementedError

    async def tokenize(self, text: str, *, add_special_tokens: bool) -> list[int]:
        raise NotImplementedError

    async def detokenize(self, tokens: list[int]) -> str:
        raise NotImplementedError

    async def tokenizer_info(self) -> JsonDict:
        raise NotImplementedError

    async def health(self) -> bool:
        return True


def _answers() -> dict[str, str]:
    suite = evaluation.load_suite("builtin-mc")
    return {f"Question: {i['question']}\nAnswer:": i["choices"][i["answer"]] for i in suite.items}


def test_suite_is_shipped_and_hashed() -> None:
    """Annex XI §2(1): the evaluation protocol is identified; the sha256 is of the exact shipped file."""
    suite = evaluation.load_suite("builtin-mc")
    raw = files("valuechain.compliance").joinpath("suites", "builtin-mc.json").read_bytes()
    assert suite.sha256 == hashlib.sha256(raw).hexdigest()
    assert 10 <= len(suite.items) <= 20
    with pytest.raises(Exception, match="unknown suite"):
        evaluation.load_suite("../packs/eu_ai_act")


def test_runner_scores_by_loglikelihood() -> None:
    """The choice whose continuation tokens are most likely is picked (lm-evaluation-harness ``acc``)."""
    right = asyncio.run(
        evaluation.run_suite(ScriptedBackend(_answers()), evaluation.load_suite("builtin-mc"), channel="api")
    )
    assert right.score == 1.0 and right.correct == right.total == 12
    wrong = asyncio.run(
        evaluation.run_suite(ScriptedBackend({}), evaluation.load_suite("builtin-mc"), channel="api")
    )
    assert wrong.correct == sum(item.answer == 0 for item in wrong.items)  # ties go to the first choice
    backend = ScriptedBackend({})
    asyncio.run(evaluation.run_suite(backend, evaluation.load_suite("builtin-mc"), channel="weights"))
    assert all(r["echo"] and r["max_tokens"] == 0 and r["logprobs"] == 0 for r in backend.requests)


@pytest.fixture
def chain(db: Database) -> Database:
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    for org in ("outsider", "msa", "ops"):
        make_org(db, org)
    return db


def _principal(db: Database, org: str, role: str = "admin") -> Any:
    from valuechain.accounts.service import authenticate

    secret = make_key(db, org, role)
    with db.session() as session:
        return authenticate(session, secret)


def test_provider_and_inspector_runs_and_channel_neutrality(client: TestClient, chain: Database) -> None:
    """Art. 55(1)(a), Annex XI §2: the provider's runs over both channels are stored; equal scores are the
    channel-neutrality evidence; an inspector with a grant (Art. 74) runs too and the provider sees it."""
    db = chain
    provider = _principal(db, "openlab")
    run = {"suite": "builtin-mc", "open_backend": lambda: ScriptedBackend(_answers())}
    api = service.run_evaluation(db, "openlab/ol-7b", principal=provider, channel="api", **run)
    service.run_evaluation(db, "openlab/ol-7b", principal=provider, channel="weights", **run)
    assert api.score == 1.0 and api.role == "provider" and len(api.items) == 12
    assert api.suite_sha256 == evaluation.load_suite("builtin-mc").sha256 and len(api.sha256) == 64
    with db.session() as session:
        same = service.channel_neutrality(session, "openlab/ol-7b", principal=provider)
    assert same["neutral"] is True and same["channels"] == {"api": 1.0, "weights": 1.0}
    service.run_evaluation(
        db, "openlab/ol-7b", principal=provider, channel="weights", suite="builtin-mc",
        open_backend=lambda: ScriptedBackend({}),
    )  # fmt: skip
    with db.session() as session:
        differ = service.channel_neutrality(session, "openlab/ol-7b", principal=provider)
    assert differ["neutral"] is False and differ["difference"] > 0

    # an inspector without a grant: as if the model did not exist, and nothing is loaded
    inspector = _principal(db, "msa", "member")
    opened: list[bool] = []

    def opener() -> Backend:
        opened.append(True)
        return ScriptedBackend(_answers())

    with pytest.raises(NotFoundError):
        service.run_evaluation(
            db,
            "openlab/ol-7b",
            principal=inspector,
            channel="api",
            suite="builtin-mc",
            open_backend=opener,
        )
    assert opened == []
    operator = make_key(db, "ops", "owner", operator=True)
    today = date.today()
    grant = {"inspector": "msa", "models": ["openlab/ol-7b"], "valid_from": today.isoformat(),
             "valid_until": (today + timedelta(30)).isoformat()}  # fmt: skip
    assert client.post("/api/v1/inspector-grants", json=grant, headers=auth(operator)).status_code == 201
    checked = service.run_evaluation(
        db,
        "openlab/ol-7b",
        principal=inspector,
        channel="api",
        suite="builtin-mc",
        open_backend=opener,
    )
    assert checked.role == "inspector" and opened == [True]
    openlab_key = make_key(db, "openlab", "admin")
    listed = client.get("/api/v1/evaluations", headers=auth(openlab_key)).json()
    assert [r["role"] for r in listed].count("inspector") == 1 and len(listed) == 4
    events = client.get("/api/v1/audit", headers=auth(openlab_key)).json()
    assert [e["after"]["role"] for e in events if e["action"] == "compliance.evaluation_run"].count(
        "inspector"
    ) == 1

    # tenant isolation: an organisation neither provider nor inspector sees none and cannot run
    outsider = make_key(db, "outsider", "admin")
    assert client.get("/api/v1/evaluations", headers=auth(outsider)).json() == []
    r = client.post("/api/v1/models/openlab/ol-7b/evaluations", json={}, headers=auth(outsider))
    assert r.status_code == 404
    # another model of another organisation is out of the inspector's grant
    with pytest.raises(NotFoundError):
        service.run_evaluation(
            db, "tuner/ol-7b-legal", principal=inspector, channel="api", suite="builtin-mc",
            open_backend=opener,
        )  # fmt: skip


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_open_weights_run_loads_the_hub_gguf(client: TestClient, db: Database, settings: Any) -> None:
    """The weights channel: the hub's GGUF loaded into the embedded runtime (bundled SmolLM2-135M); the
    result is stored with the suite's sha256 and per-item log-likelihoods (Annex XI §2)."""
    pytest.importorskip("llama_cpp")
    from valuechain.hub.demo import seed_hub_demo
    from valuechain.runtime.llamacpp import bundled_model_path

    make_org(db, "smolco")
    make_org(db, "dev")
    repo = seed_hub_demo(db, settings, bundled_model_path(), provider="smolco", developer="dev")
    key = make_key(db, "smolco", "admin")
    r = client.post(f"/api/v1/models/{repo}/evaluations", json={"channel": "weights"}, headers=auth(key))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["total"] == 12 and body["channel"] == "weights" and len(body["items"]) == 12
    assert body["correct"] >= 4  # above chance (3 of 12) on these easy items
    assert all(len(i["loglikelihoods"]) == 4 for i in body["items"])


def test_eval_cli_checks_who_runs_and_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``valuechain eval run|list``: only the provider or an inspector (Art. 74) runs; the api channel needs
    the caller's key, so the run is metered on /v1 like any call."""
    import json

    from typer.testing import CliRunner

    from valuechain.cli.main import app as root

    monkeypatch.setenv("VALUECHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VALUECHAIN_DATABASE_URL", raising=False)
    monkeypatch.delenv("VALUECHAIN_API_KEY", raising=False)
    runner = CliRunner()
    assert runner.invoke(root, ["chain", "import", str(CHAIN)]).exit_code == 0
    result = runner.invoke(root, ["eval", "run", "openlab/ol-7b", "--channel", "api", "--as", "shop"])
    assert result.exit_code == 1 and "not found" in result.output
    result = runner.invoke(root, ["eval", "run", "openlab/ol-7b", "--channel", "api", "--as", "openlab"])
    assert result.exit_code == 1 and "API key" in result.output
    result = runner.invoke(root, ["eval", "list", "--as", "openlab", "-f", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


SYSTEMIC = """\
valuechain: 1
actors:
  - {id: bigai, name: Big AI SA, country: FR}
models:
  - {id: bigai/huge, training_compute_flop: 3.0e+25, output_modalities: [text], eu_market: 2025-09-01}
"""


class FailingBackend(ScriptedBackend):
    """A channel that breaks mid-suite (the fifth request): the run never completes."""

    async def completion(self, body: JsonDict) -> JsonDict:
        if len(self.requests) >= 4:
            from valuechain.core.errors import UpstreamError

            raise UpstreamError("the backend went away")
        return await super().completion(body)


def _obligation(db: Database, principal: Any, rule: str) -> tuple[str, tuple[str, ...]]:
    with db.session() as session:
        result = service.list_obligations(session, principal=principal)
    ob = next(o for o in result.obligations if o.subject == "bigai/huge" and o.rule == rule)
    return ob.status, ob.because


def test_a_completed_run_is_evidence_of_the_model_evaluation_and_goes_stale(db: Database) -> None:
    """Art. 55(1)(a) (model evaluation of a systemic-risk model) and Annex XI §2 point 1 (evaluation results
    in the technical documentation, Art. 53(1)(a)): the provider's completed run meets A55.1.a at once, with
    no separate sign-off, and its status names the run (suite, result sha256, score, channels); the run fills
    Annex XI §2 point 1. A run that breaks mid-suite and an inspector's run (Art. 92: the authority's
    evaluation, not the provider's) meet nothing. A new version makes the evidence stale (issue 13 point 1);
    recording documentation text does not (an evaluation is about the model, not its documentation)."""
    from valuechain.compliance.documentation import EVALUATION_REF
    from valuechain.registry.check import parse_manifest
    from valuechain.registry.schemas import VersionCreate
    from valuechain.registry.service import create_version

    with db.unit_of_work() as session:
        import_manifest(session, parse_manifest(SYSTEMIC), principal=system_principal())
    provider = _principal(db, "bigai")
    status, _ = _obligation(db, provider, "A55.1.a")
    assert status in ("open", "overdue")

    def run(channel: str, backend: Backend, who: Any = provider) -> Any:
        return service.run_evaluation(
            db, "bigai/huge", principal=who, channel=channel, suite="builtin-mc", open_backend=lambda: backend
        )

    from valuechain.core.errors import UpstreamError

    with pytest.raises(UpstreamError):
        run("api", FailingBackend(_answers()))
    assert _obligation(db, provider, "A55.1.a")[0] == status  # nothing stored, nothing met
    with db.session() as session:
        assert service.list_evaluations(session, principal=provider) == []

    api = run("api", ScriptedBackend(_answers()))
    status, _ = _obligation(db, provider, "A55.1.a")
    assert status.startswith(f"met: evaluation run {api.id} of builtin-mc (result sha256 {api.sha256[:12]})")
    assert "score 1.00 (12/12); channels api 1.00" in status
    weights = run("weights", ScriptedBackend({}))
    status, _ = _obligation(db, provider, "A55.1.a")
    assert (
        f"evaluation run {weights.id}" in status
        and f"channels api 1.00, weights {weights.score:.2f}" in status
    )
    assert weights.score < 1.0  # the channels differ, and the status says by how much

    with db.session() as session:
        doc = service.model_document(session, "bigai/huge", "annex-xi", principal=provider)
    field = next(f for _, fs in doc.sections for f in fs if f.ref == EVALUATION_REF)
    assert field.value is not None and api.id in field.value and weights.id in field.value
    assert _obligation(db, provider, "A53.1.a")[0] in ("open", "overdue")  # the rest is still missing

    # an inspector's run evaluates the provider; it does not discharge the provider's duty
    make_org(db, "msa")
    with db.unit_of_work() as session:
        service.grant_inspector(
            session, principal=system_principal(), inspector="msa", orgs=["bigai"], models=[],
            valid_from=date.today(), valid_until=date.today() + timedelta(days=7),
        )  # fmt: skip
    inspected = run("api", ScriptedBackend({}), who=_principal(db, "msa", "member"))
    assert inspected.role == "inspector"
    assert f"evaluation run {weights.id}" in _obligation(db, provider, "A55.1.a")[0]

    with db.unit_of_work() as session:  # documentation text is not what an evaluation covers
        service.record_documentation(session, "bigai/huge", {"energy": "1 GWh"}, principal=provider)
    assert _obligation(db, provider, "A55.1.a")[0].startswith("met: evaluation run")
    with db.unit_of_work() as session:  # a new version is another model to evaluate
        create_version(session, "bigai/huge", VersionCreate(label="2"), principal=provider)  # type: ignore[call-arg]
    status, _ = _obligation(db, provider, "A55.1.a")
    assert "stale (the facts it covers changed)" in status
    with db.session() as session:
        doc = service.model_document(session, "bigai/huge", "annex-xi", principal=provider)
    assert next(f for _, fs in doc.sections for f in fs if f.ref == EVALUATION_REF).value is None


def test_a_run_of_a_model_without_the_duty_is_stored_but_meets_nothing(db: Database) -> None:
    """Art. 55(1)(a) applies to systemic-risk models only: a run of another model is an evaluation result
    (Annex XI §2 is for systemic-risk models) and records no evidence for duties it does not cover."""
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    provider = _principal(db, "tuner")
    service.run_evaluation(
        db, "tuner/ol-7b-legal", principal=provider, channel="api", suite="builtin-mc",
        open_backend=lambda: ScriptedBackend(_answers()),
    )  # fmt: skip
    with db.session() as session:
        assert service.list_evidence(session, principal=provider) == []
        result = service.list_obligations(session, principal=provider)
    assert not any(o.status.startswith("met") for o in result.obligations)


def test_only_a_complete_run_counts() -> None:
    """A run with fewer results than the suite has items, or of a suite too small to evaluate a model, is no
    evaluation (Annex XI §2, Art. 55(1)(a)): stored, but evidence of nothing."""
    suite = evaluation.load_suite("builtin-mc")
    done = asyncio.run(evaluation.run_suite(ScriptedBackend(_answers()), suite, channel="api"))
    assert evaluation.is_complete(done, suite)
    short = evaluation.RunResult(done.suite, done.suite_sha256, "api", 1.0, 3, 3, done.items[:3])
    assert not evaluation.is_complete(short, suite)
    other = evaluation.RunResult(done.suite, "0" * 64, "api", 1.0, 12, 12, done.items)
    assert not evaluation.is_complete(other, suite)
    quick = evaluation.load_suite("builtin-mc-short")  # a quick channel check: complete, but no evaluation
    checked = asyncio.run(evaluation.run_suite(ScriptedBackend(_answers()), quick, channel="api"))
    assert checked.total == 3 and not quick.evidence and not evaluation.is_complete(checked, quick)


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_one_suite_over_the_served_v1_and_the_hub_weights(db: Database, settings: Any) -> None:
    """Issue 13 point 6, Annex XI §2 and Art. 55(1)(a): the same suite through the platform's own ``/v1``
    (the app served over HTTP, the bundled SmolLM2 GGUF behind the demo's api offer, the provider's key, so
    the run is admitted and metered like any call) and through the hub's weights loaded into the embedded
    runtime; both scores are stored and ``compare`` records whether they agree, truthfully."""
    pytest.importorskip("llama_cpp")
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from valuechain import demo
    from valuechain.app import create_app

    result = demo.DemoResult()
    for seeder in (demo.seed_registry, demo.seed_hub, demo.issue_demo_keys, demo.seed_api_channel):
        seeder(db, settings, result)
    from valuechain.gateway.demo import seed_gateway_demo

    # over /v1 the provider is a caller like any other: it entitles its own organisation to its api offer
    seed_gateway_demo(db, provider_slug=demo.PROVIDER, developer=demo.PROVIDER, model=demo.BUNDLED_MODEL)
    key = {"Authorization": f"Bearer {result.keys[demo.PROVIDER]}"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, database=db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}/api/v1/models/{demo.BUNDLED_MODEL}/evaluations"
    try:
        with httpx.Client(headers=key, timeout=120) as http:
            runs = {}
            for channel in ("api", "weights"):
                r = http.post(base, json={"channel": channel, "suite": "builtin-mc-short"})
                assert r.status_code == 201, r.text
                runs[channel] = r.json()
            listed = http.get(f"http://127.0.0.1:{port}/api/v1/evaluations").json()
            neutrality = http.get(f"{base}/neutrality", params={"suite": "builtin-mc-short"}).json()
            usage = http.get(f"http://127.0.0.1:{port}/api/v1/usage", params={"group_by": "model"})
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    api, weights = runs["api"], runs["weights"]
    assert api["total"] == weights["total"] == 3 and api["suite_sha256"] == weights["suite_sha256"]
    assert {r["channel"] for r in listed} == {"api", "weights"} and len(listed) == 2
    assert neutrality["channels"] == {"api": api["score"], "weights": weights["score"]}
    assert neutrality["difference"] == pytest.approx(abs(api["score"] - weights["score"]))
    assert neutrality["neutral"] is (api["score"] == weights["score"])
    # the same GGUF behind both channels: the same log-likelihood per choice, so the same picks and score
    for a, w in zip(api["items"], weights["items"], strict=True):
        assert a["loglikelihoods"] == pytest.approx(w["loglikelihoods"], abs=1e-3)
    assert neutrality["neutral"] is True and neutrality["difference"] == 0
    # 3 items x 4 choices went through /v1's admission and metering as the provider's calls (none for weights)
    assert usage.status_code == 200, usage.text
    assert [u["requests"] for u in usage.json() if u["model"] == demo.BUNDLED_MODEL] == [12]
