"""Fair sharing of an embedded model (issue 17, part 2): a 1-token chat's latency, idle and while another
organisation keeps sending maximum-size embedding requests (the adapter's caps: ``max_inputs`` inputs,
``max_input_tokens`` tokens in all), on the bundled SmolLM2 GGUF. Not a timed test: run by hand.

Usage: PYTHONPATH=src python bench/bench_fairness.py [--chats 40] [--loaders 2]
Goal: the chat's p50 under load ≤ 2 × its idle p50.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from valuechain.runtime.llamacpp import LlamaConfig, LlamaCppBackend, bundled_model_path

try:
    from valuechain.runtime.fair import tenant
except ImportError:  # a tree before issue 17 (for the "before" figure): no tenants, no caps
    from contextvars import ContextVar

    tenant = ContextVar("tenant", default="")
MAX_INPUTS, MAX_INPUT_TOKENS = 256, 32_768  # the caps of issue 17's LlamaConfig

CHAT = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 1, "temperature": 0}


async def chats(backend: LlamaCppBackend, count: int) -> list[float]:
    tenant.set("org_chat")
    times = []
    for i in range(count):
        body = {**CHAT, "messages": [{"role": "user", "content": f"Say hi to number {i}."}]}
        start = time.perf_counter()
        await backend.chat(body)
        times.append(time.perf_counter() - start)
    return times


async def embed_forever(backend: LlamaCppBackend, body: dict[str, object], done: list[float]) -> None:
    tenant.set("org_bulk")
    while True:
        start = time.perf_counter()
        await backend.embeddings(body)
        done.append(time.perf_counter() - start)


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=40)
    parser.add_argument("--loaders", type=int, default=2, help="concurrent maximum-size embedding requests")
    args = parser.parse_args()
    config = LlamaConfig(model_path=bundled_model_path())
    backend = LlamaCppBackend(config, served_name="smol")
    max_inputs = getattr(config, "max_inputs", MAX_INPUTS)
    max_tokens = getattr(config, "max_input_tokens", MAX_INPUT_TOKENS)
    per_input = max_tokens // max_inputs  # the largest request the caps allow
    text = " ".join(["word"] * (per_input - 2))  # BOS + tokens ≤ per_input
    body = {"input": [text] * max_inputs}
    await chats(backend, 3)  # load the models, warm the caches
    tenant.set("org_bulk")
    await backend.embeddings({"input": text})
    idle = await chats(backend, args.chats)
    done: list[float] = []
    loaders = [asyncio.create_task(embed_forever(backend, body, done)) for _ in range(args.loaders)]
    await asyncio.sleep(1.0)
    loaded = await chats(backend, args.chats)
    for task in loaders:
        task.cancel()
    await asyncio.gather(*loaders, return_exceptions=True)
    await backend.close()
    ratio = statistics.median(loaded) / statistics.median(idle)
    print(f"embedding request: {max_inputs} inputs × {per_input} tokens ({max_tokens})")
    print(f"chat idle   p50 {p(idle, 0.5):.1f} ms  p90 {p(idle, 0.9):.1f} ms")
    print(f"chat loaded p50 {p(loaded, 0.5):.1f} ms  p90 {p(loaded, 0.9):.1f} ms  ({args.loaders} loaders)")
    print(
        f"ratio p50 loaded / idle: {ratio:.2f} (goal ≤ 2); embedding requests finished meanwhile: {len(done)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
