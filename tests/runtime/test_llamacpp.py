"""The embedded adapter on the bundled SmolLM2 model (small max_tokens: the machine is shared)."""

from __future__ import annotations

import asyncio
import math

import pytest

pytest.importorskip("llama_cpp")

from valuechain.runtime.base import BackendRequestError  # noqa: E402
from valuechain.runtime.llamacpp import LlamaConfig, LlamaCppBackend, bundled_model_path  # noqa: E402


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    return LlamaCppBackend(LlamaConfig(model_path=bundled_model_path(), n_ctx=512), served_name="smol")


async def test_chat_is_seeded_and_concurrent_safe(backend: LlamaCppBackend) -> None:
    body = {
        "messages": [{"role": "user", "content": "Name a colour."}],
        "max_tokens": 4,
        "seed": 7,
        "temperature": 0.8,
    }
    results = await asyncio.gather(*[backend.chat(body) for _ in range(4)])
    texts = {r["choices"][0]["message"]["content"] for r in results}
    assert len(texts) == 1  # same seed, no interleaved state between concurrent requests
    assert results[0]["usage"]["completion_tokens"] <= 4


async def test_echo_logprobs_align_with_prompt(backend: LlamaCppBackend) -> None:
    tokens = await backend.tokenize("The capital of France is", add_special_tokens=False)
    r = await backend.completion(
        {"prompt": tokens, "max_tokens": 1, "echo": True, "logprobs": 1, "temperature": 0}
    )
    lp = r["choices"][0]["logprobs"]
    assert len(lp["token_logprobs"]) == len(tokens) + 1
    assert lp["token_logprobs"][0] is None
    assert all(v is not None and v <= 0 and math.isfinite(v) for v in lp["token_logprobs"][1:])
    greedy = max(lp["top_logprobs"][-1].values())
    assert lp["token_logprobs"][-1] == pytest.approx(greedy)


async def test_stream_stop_and_usage(backend: LlamaCppBackend) -> None:
    chunks = [
        c
        async for c in backend.chat_stream(
            {
                "messages": [{"role": "user", "content": "Count: 1, 2, 3"}],
                "max_tokens": 6,
                "temperature": 0,
                "stop": ["\n"],
            }
        )
    ]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] >= 1


async def test_bad_token_ids_and_embeddings(backend: LlamaCppBackend) -> None:
    with pytest.raises(BackendRequestError):
        await backend.completion({"prompt": [10**9], "max_tokens": 1})
    e = await backend.embeddings({"input": ["hello", "world"]})
    assert len(e["data"]) == 2 and abs(sum(x * x for x in e["data"][0]["embedding"]) - 1) < 1e-3


async def test_engine_failure_is_a_backend_error(backend: LlamaCppBackend) -> None:
    from valuechain.runtime.base import BackendError

    def explode() -> None:
        raise RuntimeError("llama_decode returned -1")

    with pytest.raises(BackendError) as info:
        await backend._run(explode)
    assert info.value.status_code == 502 and "RuntimeError" in info.value.message
