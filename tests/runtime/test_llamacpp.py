"""The embedded adapter on the bundled SmolLM2 model (small max_tokens: the machine is shared)."""

from __future__ import annotations

import asyncio
import math

import pytest

pytest.importorskip("llama_cpp")

from valuechain.runtime.base import BackendRequestError  # noqa: E402
from valuechain.runtime.fair import tenant  # noqa: E402
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


async def test_caps_per_request_answer_400() -> None:
    """Inputs, their tokens in all, and choices are capped per request (issue 17)."""
    small = LlamaCppBackend(
        LlamaConfig(model_path=bundled_model_path(), n_ctx=512, max_inputs=4, max_input_tokens=40),
        served_name="smol",
    )
    try:
        with pytest.raises(BackendRequestError, match="at most 4 per request") as too_many:
            await small.embeddings({"input": ["a"] * 5})
        assert too_many.value.status_code == 400
        with pytest.raises(BackendRequestError, match="at most 40 per request"):
            await small.embeddings({"input": ["word " * 30, "word " * 30]})
        with pytest.raises(BackendRequestError, match="at most 16 per request"):
            await small.completion({"prompt": ["a", "b"], "n": 9, "max_tokens": 1})
    finally:
        await small.close()


async def test_a_big_embedding_request_lets_another_organisation_in() -> None:
    """Embeddings go in slices; another organisation's request waits for one slice, not the whole request,
    and the slices' vectors come back in order, equal to embedding each input alone."""
    sliced = LlamaCppBackend(
        LlamaConfig(model_path=bundled_model_path(), n_ctx=512, slice_tokens=1), served_name="smol"
    )
    texts = [f"sentence number {i}" for i in range(24)]
    try:
        alone = await sliced.embeddings({"input": texts[3]})

        async def as_org(org: str, body: dict[str, object]) -> dict[str, object]:
            tenant.set(org)
            return await sliced.embeddings(body)

        big = asyncio.create_task(as_org("org_big", {"input": texts}))
        await asyncio.sleep(0.05)
        await as_org("org_small", {"input": "hello"})
        assert not big.done()
        whole = await big
        assert whole["data"][3]["embedding"] == pytest.approx(alone["data"][0]["embedding"], abs=1e-4)
        assert [d["index"] for d in whole["data"]] == list(range(24))
    finally:
        await sliced.close()
