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
    with db.unit_of_work() as session:
        api = service.run_evaluation(session, "openlab/ol-7b", principal=provider, channel="api", **run)
        service.run_evaluation(session, "openlab/ol-7b", principal=provider, channel="weights", **run)
    assert api.score == 1.0 and api.role == "provider" and len(api.items) == 12
    assert api.suite_sha256 == evaluation.load_suite("builtin-mc").sha256 and len(api.sha256) == 64
    with db.session() as session:
        same = service.channel_neutrality(session, "openlab/ol-7b", principal=provider)
    assert same["neutral"] is True and same["channels"] == {"api": 1.0, "weights": 1.0}
    with db.unit_of_work() as session:
        service.run_evaluation(
            session, "openlab/ol-7b", principal=provider, channel="weights", suite="builtin-mc",
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

    with db.unit_of_work() as session, pytest.raises(NotFoundError):
        service.run_evaluation(
            session,
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
    with db.unit_of_work() as session:
        checked = service.run_evaluation(
            session,
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
    with db.unit_of_work() as session, pytest.raises(NotFoundError):
        service.run_evaluation(
            session, "tuner/ol-7b-legal", principal=inspector, channel="api", suite="builtin-mc",
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
