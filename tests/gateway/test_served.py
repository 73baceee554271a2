"""End to end: served processes driven by the official ``openai`` client, and a SIGKILL mid-load."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import select

from tests.gateway.helpers import fresh_minute
from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.models import UsageRecord
from valuechain.market import ledger

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[2] / "bench"
MODEL = "demo-provider/smollm2-135m-instruct"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
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
        env={**os.environ, "VALUECHAIN_HOME": str(home)},
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    pytest.importorskip("llama_cpp")
    from valuechain.demo import seed_demo

    home = tmp_path_factory.mktemp("served")
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    keys = seed_demo(db, settings).keys
    db.dispose()
    port = _port()
    proc = _serve(home, port)
    yield f"http://127.0.0.1:{port}/v1", keys
    proc.terminate()
    proc.wait(timeout=10)


def test_demo_developer_gets_real_answers(demo: tuple[str, dict[str, str]]) -> None:
    url, keys = demo
    client = openai.OpenAI(base_url=url, api_key=keys["demo-developer"], max_retries=0)
    assert MODEL in [m.id for m in client.models.list()]
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi."}], max_tokens=6, temperature=0
    )
    assert chat.choices[0].message.content and chat.usage and chat.usage.completion_tokens >= 1
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Say hi."}],
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])  # running usage is the gateway's, reported once
    done = client.completions.create(
        model=MODEL, prompt="Paris is the capital of", max_tokens=1, echo=True, logprobs=1, temperature=0
    )
    lp = done.choices[0].logprobs
    assert lp is not None and lp.token_logprobs is not None and lp.token_logprobs[0] is None
    assert len(client.embeddings.create(model=MODEL, input="hello").data[0].embedding) > 100
    two = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=3,
        n=2,
        seed=5,
        logprobs=True,
        top_logprobs=2,
        stop=["\n"],
    )
    assert [c.index for c in two.choices] == [0, 1]
    content = two.choices[0].logprobs.content if two.choices[0].logprobs else None
    assert content and len(content[0].top_logprobs) == 2


def test_langchain_structured_output_and_tools(demo: tuple[str, dict[str, str]]) -> None:
    """LangChain's ChatOpenAI, as agent frameworks use it: a pydantic schema and bound tools, parsed."""
    langchain_openai = pytest.importorskip("langchain_openai")
    from pydantic import BaseModel, Field

    class Person(BaseModel):
        """A person."""

        name: str = Field(max_length=12)
        age: int

    class GetWeather(BaseModel):
        """The current weather of a city."""

        city: str = Field(max_length=16)

    url, keys = demo
    llm = langchain_openai.ChatOpenAI(
        model=MODEL, base_url=url, api_key=keys["demo-developer"], max_retries=0, max_tokens=48, temperature=0
    )
    for method in ("json_schema", "function_calling"):  # both enforced by a grammar
        person = llm.with_structured_output(Person, method=method).invoke("Describe a person as JSON.")
        assert isinstance(person, Person), method
    ai = llm.bind_tools([GetWeather], tool_choice="GetWeather").invoke("Weather in Paris?")
    assert ai.tool_calls and ai.tool_calls[0]["name"] == "GetWeather"
    assert GetWeather.model_validate(ai.tool_calls[0]["args"])


async def test_remote_backend_passes_tools_and_response_format_through(
    demo: tuple[str, dict[str, str]],
) -> None:
    """A gateway whose backend is another OpenAI-compatible server (here: the served demo) relays both."""
    from valuechain.runtime.remote import RemoteBackend

    url, keys = demo
    backend = RemoteBackend(base_url=url, served_name=MODEL, api_key=keys["demo-developer"])
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 16}}},
        },
    }
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    body = {"messages": ask, "tools": [tool], "tool_choice": "required", "max_tokens": 48, "temperature": 0}
    r = await backend.chat(body)
    assert r["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    chunks = [
        c
        async for c in backend.chat_stream(
            {"messages": ask, "response_format": {"type": "json_object"}, "max_tokens": 48, "temperature": 0}
        )
    ]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert isinstance(json.loads(text), dict)
    await backend.close()


def test_outsider_and_bad_key(demo: tuple[str, dict[str, str]]) -> None:
    url, keys = demo
    with pytest.raises(openai.PermissionDeniedError):
        openai.OpenAI(base_url=url, api_key=keys["demo-outsider"], max_retries=0).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
        )
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url, api_key="vc_0000000000_" + "y" * 40, max_retries=0).models.list()


def test_sigkill_mid_load_loses_no_completed_usage(tmp_path: Path) -> None:
    """Answered requests are journaled before their answer; what the killed process had not committed
    yet is committed by the next process to start, exactly once (ledger still balanced)."""
    sys.path.insert(0, str(BENCH))
    import gateway_bench

    fake_port, port = _port(), _port()
    fake = subprocess.Popen([sys.executable, str(BENCH / "fake_backend.py"), str(fake_port)])
    try:
        key, _ = gateway_bench.seed(tmp_path, fake_port)
        server = _serve(tmp_path, port)
        completed = asyncio.run(_load_then_kill(port, key, server))
        journal = tmp_path / "journal"
        assert list(journal.glob("settle-*.jsonl"))  # the killed process left its segments
        restarted = _serve(tmp_path, port)  # replays them before it serves
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        assert list(journal.glob("settle-*.jsonl")) == []
        settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
        db = Database(settings.resolved_database_url)
        with db.session() as session:
            recorded = list(session.execute(select(UsageRecord.id)).scalars())
            assert ledger.verify(session).problems == []
        db.dispose()
        assert len(recorded) == len(set(recorded))
        assert completed and completed <= set(recorded)
    finally:
        fake.terminate()
        fake.wait(timeout=5)


async def _load_then_kill(port: int, key: str, server: subprocess.Popen[bytes]) -> set[str]:
    done: set[str] = set()
    body = {"model": "bench-provider/fake", "messages": [{"role": "user", "content": "x"}], "max_tokens": 4}

    async def worker(http: httpx.AsyncClient) -> None:
        while True:
            try:
                r = await http.post("/v1/chat/completions", json=body)
            except httpx.HTTPError:
                return
            if r.status_code == 200:
                done.add(r.headers["x-request-id"])

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=5, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        tasks = [asyncio.create_task(worker(http)) for _ in range(16)]
        await asyncio.sleep(1.5)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        await asyncio.gather(*tasks)
    return done


def test_limits_hold_across_two_processes_sharing_redis(tmp_path: Path) -> None:
    import redis

    from tests.gateway.test_redis_shared import REDIS_URL, _redis_or_skip
    from valuechain.accounts.principal import system_principal
    from valuechain.gateway.state import random_prefix
    from valuechain.market import service as market
    from valuechain.market.terms import ApiTerms, Limits
    from valuechain.registry.models import Offer

    _redis_or_skip()
    sys.path.insert(0, str(BENCH))
    import gateway_bench

    fake_port, ports = _port(), (_port(), _port())
    fake = subprocess.Popen([sys.executable, str(BENCH / "fake_backend.py"), str(fake_port)])
    prefix = random_prefix()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        key, _ = gateway_bench.seed(tmp_path, fake_port)
        db = Database(Settings(home=tmp_path, _env_file=None).resolved_database_url)  # type: ignore[call-arg]
        with db.unit_of_work() as session:
            for offer in session.execute(select(Offer)).scalars():
                terms = ApiTerms(key_limits=Limits(requests_per_minute=10))
                market.set_api_terms(session, offer.id, terms, principal=system_principal())
        db.dispose()
        env = {"VALUECHAIN_REDIS_URL": REDIS_URL, "VALUECHAIN_REDIS_KEY_PREFIX": prefix}
        os.environ.update(env)
        try:
            servers = [_serve(tmp_path, p) for p in ports]
        finally:
            for name in env:
                os.environ.pop(name)
        body = {
            "model": "bench-provider/fake",
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 4,
        }
        fresh_minute()
        statuses = [
            httpx.post(
                f"http://127.0.0.1:{ports[i % 2]}/v1/chat/completions",
                json=body,
                timeout=10,
                headers={"Authorization": f"Bearer {key}"},
            ).status_code
            for i in range(30)
        ]
        assert statuses.count(200) == 10 and statuses.count(429) == 20
    finally:
        for proc in [*servers, fake]:
            proc.terminate()
            proc.wait(timeout=10)
        client = redis.Redis.from_url(REDIS_URL)
        for k in client.scan_iter(f"{prefix}*"):
            client.delete(k)


def test_lm_eval_local_completions_protocol(demo: tuple[str, dict[str, str]]) -> None:
    """The exact calls of lm-evaluation-harness ``local-completions`` with the remote tokenizer."""
    url, keys = demo
    root = url.removesuffix("/v1")
    headers = {"Authorization": f"Bearer {keys['demo-developer']}"}
    info = httpx.get(f"{root}/tokenizer_info", headers=headers).json()
    assert info["eos_token"] and info["chat_template"]
    context, continuation = "Question: 2 + 2 = ?\nAnswer:", " 4"
    ctx = httpx.post(
        f"{root}/tokenize", json={"prompt": context, "add_special_tokens": False}, headers=headers
    )
    whole = httpx.post(
        f"{root}/tokenize",
        json={"prompt": context + continuation, "add_special_tokens": False},
        headers=headers,
    ).json()["tokens"]
    ctxlen = len(ctx.json()["tokens"])
    assert httpx.post(f"{root}/detokenize", json={"tokens": whole}, headers=headers).json()["prompt"] == (
        context + continuation
    )
    payload = {
        "model": MODEL,
        "prompt": [whole, whole[:ctxlen]],
        "temperature": 0,
        "max_tokens": 1,
        "logprobs": 1,
        "seed": 1234,
        "echo": True,
    }
    choices = httpx.post(f"{url}/completions", json=payload, headers=headers, timeout=60).json()["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    lp = sorted(choices, key=lambda c: c["index"])[0]["logprobs"]
    assert len(lp["token_logprobs"]) == len(whole) + 1
    score = sum(lp["token_logprobs"][ctxlen:-1])  # what the harness sums for the continuation
    assert score < 0
    for i in range(ctxlen, len(whole)):
        assert lp["token_logprobs"][i] <= max(lp["top_logprobs"][i].values()) + 1e-6
