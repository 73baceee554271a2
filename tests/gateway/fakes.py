"""A scriptable in-process backend for gateway tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from valuechain.core.observe import current_request_id
from valuechain.runtime.base import Backend, JsonDict


class FakeBackend(Backend):
    """Answers ``words`` as the completion; ``fail`` raises it; ``delay_s`` sleeps per call/chunk."""

    served_name = "fake"

    def __init__(
        self,
        *,
        words: tuple[str, ...] = ("Hello", " world", "!"),
        delay_s: float = 0.0,
        prompt_tokens: int = 7,
    ) -> None:
        self.words = words
        self.delay_s = delay_s
        self.prompt_tokens = prompt_tokens
        self.fail: Exception | None = None
        self.calls = 0
        self.streams_closed = 0
        self.request_ids: list[str | None] = []  # the request id each call was made under

    def _usage(self, n: int = 1) -> JsonDict:
        c = len(self.words) * n
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": c,
            "total_tokens": self.prompt_tokens + c,
        }

    async def _enter(self) -> None:
        self.calls += 1
        self.request_ids.append(current_request_id())
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail is not None:
            raise self.fail

    async def chat(self, body: JsonDict) -> JsonDict:
        await self._enter()
        n = body.get("n") or 1
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake",
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": "".join(self.words)},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
                for i in range(n)
            ],
            "usage": self._usage(n),
        }

    async def chat_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:  # type: ignore[override]
        await self._enter()
        base: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "fake",
        }
        try:
            yield {
                **base,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                ],
            }
            for w in self.words:
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                yield {**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
            yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield {**base, "choices": [], "usage": self._usage()}
        finally:
            self.streams_closed += 1

    async def completion(self, body: JsonDict) -> JsonDict:
        await self._enter()
        text = "".join(self.words)
        lp = {
            "tokens": list(self.words),
            "token_logprobs": [-0.5] * len(self.words),
            "top_logprobs": [{w: -0.5} for w in self.words],
            "text_offset": [0] * len(self.words),
        }
        return {
            "id": "cmpl-fake",
            "object": "text_completion",
            "created": 1,
            "model": "fake",
            "choices": [
                {
                    "text": text,
                    "index": 0,
                    "logprobs": lp if body.get("logprobs") is not None else None,
                    "finish_reason": "length",
                }
            ],
            "usage": self._usage(),
        }

    async def completion_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:  # type: ignore[override]
        await self._enter()
        for w in self.words:
            yield {
                "id": "cmpl-fake",
                "object": "text_completion",
                "created": 1,
                "model": "fake",
                "choices": [{"text": w, "index": 0, "logprobs": None, "finish_reason": None}],
            }
        yield {
            "id": "cmpl-fake",
            "object": "text_completion",
            "created": 1,
            "model": "fake",
            "choices": [],
            "usage": self._usage(),
        }

    async def embeddings(self, body: JsonDict) -> JsonDict:
        await self._enter()
        raw = body["input"]
        items = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else raw
        return {
            "object": "list",
            "model": "fake",
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
            "data": [
                {"object": "embedding", "index": i, "embedding": [0.5, -0.25, 1.0]} for i in range(len(items))
            ],
        }

    async def tokenize(self, text: str, *, add_special_tokens: bool) -> list[int]:
        return [ord(c) for c in text]

    async def detokenize(self, tokens: list[int]) -> str:
        return "".join(chr(t) for t in tokens)

    async def tokenizer_info(self) -> JsonDict:
        return {"eos_token": "</s>", "bos_token": "<s>", "chat_template": None}

    async def health(self) -> bool:
        return self.fail is None
